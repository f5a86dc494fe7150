"""The photo grid's content: a few eval photos per class with the candidate model's answers, as the Trainer
recorded them."""

from __future__ import annotations

import dataclasses
import math
import os

from components import json_files
from components.artifacts import EVAL_PREDICTIONS_FILE, IMAGE_FEATURE, LABEL_FEATURE, SOURCE_FEATURE
from components.text import class_name
from components.report import examples_io
from components.report.thumbnails import thumbnail


@dataclasses.dataclass
class GridPhoto:
    """One photo of the report's grid: its thumbnail, its class and the class the candidate model gave it."""

    jpeg: bytes
    true_label: str
    predicted_label: str
    probability: float

    @property
    def correct(self) -> bool:
        return self.true_label == self.predicted_label


def sample_predictions(run_uri: str, examples_uri: str, classes: list[str], count: int = 36) -> list[GridPhoto]:
    """Up to `count` eval photos, spread evenly over the classes, with the top class the Trainer's final model
    gave each (its eval predictions file): the report loads no model."""
    predicted = json_files.read_json(os.path.join(run_uri, EVAL_PREDICTIONS_FILE)) if run_uri else None
    if predicted is None:
        return []
    predictions = []
    for record in _balanced_sample(examples_uri, count):
        source = record[SOURCE_FEATURE].decode("utf-8", "surrogateescape")
        if source not in predicted:
            continue
        best, probability = predicted[source]
        predictions.append(GridPhoto(jpeg=thumbnail(record[IMAGE_FEATURE]), true_label=record[LABEL_FEATURE].decode(),
                                     predicted_label=class_name(classes, best), probability=float(probability)))
    return predictions


def _balanced_sample(examples_uri: str, count: int) -> list[dict]:
    """The first records of each class, round-robin, so every class shows up in the grid."""
    import tensorflow as tf

    features = {name: tf.io.FixedLenFeature([], tf.string) for name in (IMAGE_FEATURE, LABEL_FEATURE, SOURCE_FEATURE)}
    by_label: dict[bytes, list[dict]] = {}
    for record in examples_io.split_records(examples_uri, features):
        by_label.setdefault(record[LABEL_FEATURE], []).append(record)
    if not by_label:
        return []
    per_class = math.ceil(count / len(by_label))
    columns = [records[:per_class] for _, records in sorted(by_label.items())]
    interleaved: list[dict] = []
    for row in range(per_class):
        interleaved += [records[row] for records in columns if row < len(records)]
    return interleaved[:count]

