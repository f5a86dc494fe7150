"""Loading an exported or pushed model and answering photos in batches through its photo signature.

The host only reads files (and applies EXIF orientation, which the graph cannot); resizing and cropping
happen in the model, exactly as at ingestion, and the model refuses photos over its pixel bound. A photo that
cannot be read, decoded or is refused gets an error of its own; answers come batch by batch, as they are ready.
"""

from __future__ import annotations

import dataclasses
import io
import os
from typing import Iterable, Iterator

import tensorflow as tf

from components.artifacts import (CLASS_NAMES_OUTPUT, CLASS_NAMES_SIGNATURE, CONFIDENCE_FILE, PHOTO_INPUT,
                                  PHOTO_SIGNATURE, PROBABILITIES_OUTPUT)
from components.errors import UserError
from components.training.photo_input import DEFAULT_MAX_PIXELS, REFUSAL_MARK, readable_error

_TF_FORMATS = {"JPEG", "PNG", "GIF", "BMP"}  # What the photo signature decodes.
_EXIF_ORIENTATION = 0x0112
AUTO = "auto"  # --min-confidence auto: the threshold chosen for the version.


@dataclasses.dataclass(frozen=True)
class Prediction:
    path: str
    label: str = ""
    probability: float = 0.0
    probabilities: dict[str, float] | None = None
    error: str = ""
    min_confidence: float | None = None  # Below it the answer is `unsure` (the label stays the best guess).

    @property
    def unsure(self) -> bool:
        return self.min_confidence is not None and self.probability < self.min_confidence

    def as_dict(self) -> dict:
        if self.error:
            return {"path": self.path, "error": self.error}
        answer = {"path": self.path, "label": self.label, "probability": self.probability,
                  "probabilities": self.probabilities}
        return answer if self.min_confidence is None else {**answer, "unsure": self.unsure}


def resolve_min_confidence(model_dir: str, value: float | str | None) -> float | None:
    """A threshold as given, or for `auto` the one the Trainer chose for this version (its confidence file);
    None when no threshold reached the target accuracy, so every photo is answered."""
    if value != AUTO:
        return value
    from components.model_run import confidence

    chosen = confidence(model_dir)
    if chosen is None:
        raise UserError(f"--min-confidence auto: {model_dir} holds no {CONFIDENCE_FILE} (a model exported before "
                        "thresholds were chosen); give a threshold such as --min-confidence 0.7")
    return chosen.threshold


def resolve_model_dir(path: str) -> str:
    """A SavedModel directory itself, or the newest numbered version inside a serving directory."""
    if tf.io.gfile.exists(os.path.join(path, "saved_model.pb")):
        return path
    if not tf.io.gfile.isdir(path):
        raise UserError(f"--model-dir {path}: no such directory")
    versions = [name.rstrip("/") for name in tf.io.gfile.listdir(path) if name.rstrip("/").isdigit()]
    versioned = [v for v in versions if tf.io.gfile.exists(os.path.join(path, v, "saved_model.pb"))]
    if not versioned:
        raise UserError(f"--model-dir {path}: neither a SavedModel nor a serving directory of numbered versions")
    return os.path.join(path, max(versioned, key=int))


class Predictor:
    """One loaded model; `predict(paths)` answers every path, in order, batch by batch.

    `max_image_pixels` bounds what the host decodes itself (formats the graph cannot read, EXIF rotation);
    the graph applies the bound baked into the model to everything else. Answers below `min_confidence` (a
    probability, or `auto`) are marked unsure.
    """

    def __init__(self, model_dir: str, max_image_pixels: int = DEFAULT_MAX_PIXELS,
                 min_confidence: float | str | None = None):
        self.model_dir = resolve_model_dir(model_dir)
        self.max_image_pixels = max_image_pixels
        self.min_confidence = resolve_min_confidence(self.model_dir, min_confidence)
        loaded = tf.saved_model.load(self.model_dir)
        signature = loaded.signatures.get(PHOTO_SIGNATURE)
        if signature is None or PHOTO_INPUT not in signature.structured_input_signature[1]:
            raise UserError(f"{self.model_dir}: its {PHOTO_SIGNATURE} signature takes no {PHOTO_INPUT}; "
                            "was it exported by this version of the pipeline?")
        self._loaded = loaded  # Keeps the signatures' variables alive.
        self._predict = signature
        names = loaded.signatures[CLASS_NAMES_SIGNATURE]()[CLASS_NAMES_OUTPUT].numpy()
        self.classes = [name.decode() for name in names]

    def predict(self, paths: Iterable[str], batch_size: int = 64) -> Iterator[Prediction]:
        batch: list[str] = []
        for path in paths:
            batch.append(path)
            if len(batch) == batch_size:
                yield from self.predict_batch(batch)
                batch = []
        if batch:
            yield from self.predict_batch(batch)

    def predict_batch(self, paths: list[str]) -> list[Prediction]:
        encoded, errors = {}, {}
        for path in paths:
            try:
                encoded[path] = read_photo(path, self.max_image_pixels)
            except tf.errors.OpError as error:  # gfile: missing or unreadable file
                errors[path] = error.message
            except (OSError, ValueError) as error:
                errors[path] = str(error) or type(error).__name__
        answered = self._answer(list(encoded), list(encoded.values()))
        return [Prediction(path, error=errors[path]) if path in errors else answered[path] for path in paths]

    def _answer(self, paths: list[str], photos: list[bytes]) -> dict[str, Prediction]:
        """One call for the batch; if TensorFlow rejects a photo, photo by photo to find which."""
        if not photos:
            return {}
        try:
            outputs = self._predict(**{PHOTO_INPUT: tf.constant(photos)})
        except tf.errors.InvalidArgumentError as error:
            if len(photos) == 1:
                return {paths[0]: Prediction(paths[0], error=_photo_error(error.message))}
            return {p: a for path, photo in zip(paths, photos) for p, a in self._answer([path], [photo]).items()}
        probabilities = outputs[PROBABILITIES_OUTPUT].numpy()
        return {path: Prediction(path, self.classes[int(row.argmax())], float(row.max()),
                                 dict(zip(self.classes, map(float, row))), min_confidence=self.min_confidence)
                for path, row in zip(paths, probabilities)}


def _photo_error(message: str) -> str:
    sentence = readable_error(message)
    return sentence if sentence.startswith(REFUSAL_MARK) else f"cannot decode image: {sentence}"


def read_photo(path: str, max_image_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """The file's bytes, re-encoded as PNG only when TensorFlow cannot decode the format or the photo needs
    EXIF rotation (ingestion stores photos upright); only then does the host decode, within the pixel bound."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    with tf.io.gfile.GFile(path, "rb") as photo_file:
        raw = photo_file.read()
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format in _TF_FORMATS and image.getexif().get(_EXIF_ORIENTATION, 1) == 1:
                return raw
            width, height = image.size
            if width * height > max_image_pixels:
                raise ValueError(f"{REFUSAL_MARK}{width}x{height} = {width * height} pixels, "
                                 f"over the limit of {max_image_pixels}")
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except Image.DecompressionBombError as error:  # Pillow's own bound, far above ours: refused unread.
        raise ValueError(f"{REFUSAL_MARK}{error}") from None
    except UnidentifiedImageError:
        raise ValueError("not an image file (or a format Pillow cannot read)") from None
    except OSError as error:
        raise ValueError(f"cannot read image: {error}") from None
    buffer = io.BytesIO()
    upright.save(buffer, format="PNG")
    return buffer.getvalue()
