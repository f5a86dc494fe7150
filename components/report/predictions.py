"""The photo grid's content: the candidate model's tf.Example signature run on a few eval photos per class."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import os

from components.report import examples_io

THUMBNAIL_QUALITY = 80  # Re-encoded for the report: a third of the size of the quality-95 records.


@dataclasses.dataclass
class Prediction:
    jpeg: bytes
    true_label: str
    predicted_label: str
    probability: float

    @property
    def correct(self) -> bool:
        return self.true_label == self.predicted_label


def cached_predictions(model_uri: str, examples_uri: str, classes: list[str], count: int,
                       cache_dir: str) -> list[Prediction]:
    """sample_predictions, kept in cache_dir: artifact URIs never change content, and loading a SavedModel
    takes seconds, which a cached rerun of the pipeline should not pay again for its report."""
    key = hashlib.sha256(json.dumps([model_uri, examples_uri, classes, count]).encode()).hexdigest()[:24]
    path = os.path.join(cache_dir, f"predictions-{key}.json")
    if os.path.exists(path):
        with open(path) as f:
            return [Prediction(**{**row, "jpeg": base64.b64decode(row["jpeg"])}) for row in json.load(f)]
    predictions = sample_predictions(model_uri, examples_uri, classes, count)
    os.makedirs(cache_dir, exist_ok=True)
    rows = [{**dataclasses.asdict(p), "jpeg": base64.b64encode(p.jpeg).decode()} for p in predictions]
    with open(path + ".tmp", "w") as f:
        json.dump(rows, f)
    os.replace(path + ".tmp", path)
    return predictions


def sample_predictions(model_uri: str, examples_uri: str, classes: list[str], count: int = 36) -> list[Prediction]:
    """Up to `count` eval photos, spread evenly over the classes, with the model's top prediction for each."""
    import tensorflow as tf
    from tfx.utils import path_utils

    from components.training.export import EXAMPLES_SIGNATURE

    if not model_uri or not examples_uri:
        return []
    records = _balanced_sample(examples_uri, count)
    if not records:
        return []
    serve = tf.saved_model.load(path_utils.serving_model_path(model_uri)).signatures[EXAMPLES_SIGNATURE]
    (input_name,) = serve.structured_input_signature[1].keys()
    outputs = serve(**{input_name: tf.constant([r["serialized"] for r in records])})
    probabilities = outputs["probabilities"].numpy()
    predictions = []
    for record, probs in zip(records, probabilities):
        best = int(probs.argmax())
        predicted = classes[best] if best < len(classes) else f"class {best}"
        predictions.append(Prediction(jpeg=_thumbnail(record["image"]), true_label=record["label"].decode(),
                                      predicted_label=predicted, probability=float(probs[best])))
    return predictions


def _balanced_sample(examples_uri: str, count: int) -> list[dict]:
    """The first records of each class, round-robin, so every class shows up in the grid."""
    import tensorflow as tf

    features = {"image": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.string)}
    by_label: dict[bytes, list[dict]] = {}
    for record in examples_io.eval_records(examples_uri, features):
        by_label.setdefault(record["label"], []).append(record)
    if not by_label:
        return []
    per_class = math.ceil(count / len(by_label))
    columns = [records[:per_class] for _, records in sorted(by_label.items())]
    interleaved: list[dict] = []
    for row in range(per_class):
        interleaved += [records[row] for records in columns if row < len(records)]
    return interleaved[:count]


def _thumbnail(jpeg: bytes) -> bytes:
    import tensorflow as tf

    return tf.io.encode_jpeg(tf.io.decode_jpeg(jpeg, channels=3), quality=THUMBNAIL_QUALITY).numpy()
