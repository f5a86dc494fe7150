"""Loading an exported or pushed model and answering photos in batches through its photo signature.

The host reads files as ingestion does (bounded, never blocking), refuses photos over the pixel bound from their
headers and applies EXIF orientation, which the graph cannot; resizing and cropping happen in the model, exactly
as at ingestion, and the model refuses photos over its own pixel bound too. A photo that
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
from components.ingestion import files, image, pixel_limits
from components.ingestion.settings import IngestSettings
from components.training.photo_input import DEFAULT_MAX_PIXELS, REFUSAL_MARK, readable_error

_TF_FORMATS = {"JPEG", "PNG", "GIF", "BMP"}  # What the photo signature decodes.
_EXIF_ORIENTATION = 0x0112
DEFAULT_MAX_FILE_BYTES = IngestSettings.max_file_bytes  # data.max_file_bytes' default: photos larger are refused.
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


def check_loadable(model_dir: str) -> None:
    """Load the model once and let it go: a broken or foreign one is refused before a job starts its workers."""
    Predictor(model_dir)


def _load(model_dir: str):
    """tf.saved_model.load; a broken SavedModel (a corrupt saved_model.pb, no variables/) is one UserError."""
    try:
        return tf.saved_model.load(model_dir)
    except Exception as error:  # OSError, tf.errors.OpError, protobuf's DecodeError, ValueError...
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        raise UserError(f"--model-dir {model_dir}: cannot load this SavedModel ({type(error).__name__}: "
                        f"{message.strip().splitlines()[0]})") from None


class Predictor:
    """One loaded model; `predict(paths)` answers every path, in order, batch by batch.

    `max_image_pixels` bounds every photo on the host before any decode (so also under a model exported before
    GIF frames were bounded); the graph applies the bound baked into the model as well. Reads stop at
    `max_file_bytes`. Answers below `min_confidence` (a probability, or `auto`) are marked unsure.
    """

    def __init__(self, model_dir: str, max_image_pixels: int = DEFAULT_MAX_PIXELS,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, min_confidence: float | str | None = None):
        self.model_dir = resolve_model_dir(model_dir)
        self.max_image_pixels, self.max_file_bytes = max_image_pixels, max_file_bytes
        self.min_confidence = resolve_min_confidence(self.model_dir, min_confidence)
        loaded = _load(self.model_dir)
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
                encoded[path] = read_photo(path, self.max_image_pixels, self.max_file_bytes)
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


def read_photo(path: str, max_image_pixels: int = DEFAULT_MAX_PIXELS,
               max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """The file's bytes, re-encoded as PNG only when TensorFlow cannot decode the format or the photo needs
    EXIF rotation (ingestion stores photos upright); only then does the host decode. Read as ingestion reads
    (`files.read_photo`: a FIFO or device is refused unopened, reads stop at max_file_bytes) and refused over
    the pixel bound (`pixel_limits`, every GIF frame at its own size) before any pixel is decoded, whatever
    bound the model bakes in."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        raw = files.read_photo(path, max_file_bytes)
    except image.Rejected as rejected:
        raise ValueError(str(rejected)) from None
    try:
        with Image.open(io.BytesIO(raw)) as photo:
            too_many = pixel_limits.refusal(raw, *photo.size, max_image_pixels)
            if too_many:
                raise ValueError(f"{REFUSAL_MARK}{too_many}")
            if photo.format in _TF_FORMATS and photo.getexif().get(_EXIF_ORIENTATION, 1) == 1:
                return raw
            upright = ImageOps.exif_transpose(photo).convert("RGB")
    except Image.DecompressionBombError as error:  # Pillow's own bound, far above ours, fired first: refused unread.
        raise ValueError(f"{REFUSAL_MARK}{pixel_limits.refusal(raw, 0, 0, max_image_pixels) or error}") from None
    except UnidentifiedImageError:
        raise ValueError("not an image file (or a format Pillow cannot read)") from None
    except ValueError:
        raise
    except Exception as error:  # Pillow raises OSError, SyntaxError, struct.error... on bad data, as at ingestion.
        raise ValueError(f"cannot read image: {type(error).__name__}: {error}") from None
    buffer = io.BytesIO()
    upright.save(buffer, format="PNG")
    return buffer.getvalue()
