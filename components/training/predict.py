"""Loading an exported or pushed model and answering photos in batches through its photo signature.

The host only reads files (and applies EXIF orientation, which the graph cannot); resizing and cropping
happen in the model, exactly as at ingestion. A photo that cannot be read gets an error of its own.
"""

from __future__ import annotations

import dataclasses
import io
import os

import tensorflow as tf

from components.errors import UserError
from components.training.export import CLASS_NAMES_SIGNATURE, PHOTO_INPUT, PHOTO_SIGNATURE

_TF_FORMATS = {"JPEG", "PNG", "GIF", "BMP"}  # What tf.io.decode_image reads.
_EXIF_ORIENTATION = 0x0112


@dataclasses.dataclass(frozen=True)
class Prediction:
    path: str
    label: str = ""
    probability: float = 0.0
    probabilities: dict[str, float] | None = None
    error: str = ""

    def as_dict(self) -> dict:
        if self.error:
            return {"path": self.path, "error": self.error}
        return {"path": self.path, "label": self.label, "probability": self.probability,
                "probabilities": self.probabilities}


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
    """One loaded model; `predict(paths)` answers every path, in order."""

    def __init__(self, model_dir: str):
        self.model_dir = resolve_model_dir(model_dir)
        loaded = tf.saved_model.load(self.model_dir)
        signature = loaded.signatures.get(PHOTO_SIGNATURE)
        if signature is None or PHOTO_INPUT not in signature.structured_input_signature[1]:
            raise UserError(f"{self.model_dir}: its {PHOTO_SIGNATURE} signature takes no {PHOTO_INPUT}; "
                            "was it exported by this version of the pipeline?")
        self._loaded = loaded  # Keeps the signatures' variables alive.
        self._predict = signature
        names = loaded.signatures[CLASS_NAMES_SIGNATURE]()["class_names"].numpy()
        self.classes = [name.decode() for name in names]

    def predict(self, paths: list[str], batch_size: int = 64) -> list[Prediction]:
        results = []
        for start in range(0, len(paths), batch_size):
            results += self._predict_batch(paths[start:start + batch_size])
        return results

    def _predict_batch(self, paths: list[str]) -> list[Prediction]:
        encoded, errors = {}, {}
        for path in paths:
            try:
                encoded[path] = read_photo(path)
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
                return {paths[0]: Prediction(paths[0], error=f"cannot decode image: {error.message.splitlines()[0]}")}
            return {p: a for path, photo in zip(paths, photos) for p, a in self._answer([path], [photo]).items()}
        probabilities = outputs["probabilities"].numpy()
        return {path: Prediction(path, self.classes[int(row.argmax())], float(row.max()),
                                 dict(zip(self.classes, map(float, row))))
                for path, row in zip(paths, probabilities)}


def read_photo(path: str) -> bytes:
    """The file's bytes, re-encoded as PNG only when TensorFlow cannot decode the format or the photo needs
    EXIF rotation (ingestion stores photos upright)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    with tf.io.gfile.GFile(path, "rb") as photo_file:
        raw = photo_file.read()
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format in _TF_FORMATS and image.getexif().get(_EXIF_ORIENTATION, 1) == 1:
                return raw
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except UnidentifiedImageError:
        raise ValueError("not an image file (or a format Pillow cannot read)") from None
    except OSError as error:
        raise ValueError(f"cannot read image: {error}") from None
    buffer = io.BytesIO()
    upright.save(buffer, format="PNG")
    return buffer.getvalue()
