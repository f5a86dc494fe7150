"""Per-epoch progress in the logs, and the training history the run report reads."""

from __future__ import annotations

import json
import logging
import os
import time

import tensorflow as tf

from components.artifacts import (CALIBRATION_FILE, CONFIDENCE_FILE, EVAL_PREDICTIONS_FILE, HISTORY_FILE,
                                  LABEL_ISSUES_FILE, NEAR_DUPLICATES_FILE)

log = logging.getLogger(__name__)


class EpochProgress(tf.keras.callbacks.Callback):
    """Times each epoch's training steps apart from its validation, so images/s measures training alone."""

    def __init__(self, images_per_epoch: int, total_epochs: int):
        super().__init__()
        self.images_per_epoch = images_per_epoch
        self.total_epochs = total_epochs
        self.epochs: list[dict] = []
        self._started = self._trained = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started, self._trained = time.perf_counter(), 0.0

    def on_test_begin(self, logs=None):
        self._trained = self._trained or time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        train_seconds = (self._trained or now) - self._started
        record = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()},
                  "learning_rate": float(tf.keras.backend.get_value(self.model.optimizer.learning_rate)),
                  "seconds": now - self._started, "train_seconds": train_seconds,
                  "images_per_second": self.images_per_epoch / train_seconds}
        self.epochs.append(record)
        metrics = " ".join(f"{k}={v:.4g}" for k, v in record.items() if k != "epoch")
        log.info("epoch %d/%d: %s", epoch + 1, self.total_epochs, metrics)


def steady_images_per_second(epochs: list[dict]) -> float:
    """Training throughput without the first epoch, which pays for tracing and compilation."""
    steady = epochs[1:] or epochs
    return sum(e["images_per_second"] * e["train_seconds"] for e in steady) / sum(e["train_seconds"] for e in steady)


def write_history(directory: str, summary: dict, epochs: list[dict]) -> str:
    path = os.path.join(directory, HISTORY_FILE)
    tf.io.gfile.makedirs(directory)
    with tf.io.gfile.GFile(path, "w") as history_file:
        json.dump({**summary, "train_images_per_second": steady_images_per_second(epochs), "epochs": epochs},
                  history_file, indent=1)
    return path


def write_eval_predictions(directory: str, sources: list[str], probabilities) -> str:
    """The final model's top class and its probability for every eval photo, keyed by its source path: the report's
    photo grid reads these, not the model."""
    path = os.path.join(directory, EVAL_PREDICTIONS_FILE)
    rows = {source: [int(p.argmax()), float(p.max())] for source, p in zip(sources, probabilities)}
    tf.io.gfile.makedirs(directory)
    with tf.io.gfile.GFile(path, "w") as predictions_file:
        json.dump(rows, predictions_file)
    return path


def write_review(directory: str, review, calibration: dict) -> None:
    """The data review's files in the ModelRun folder: label issues and near-duplicates a JSON object a line, in
    their order (most doubtful, most similar first), and the calibration record."""
    tf.io.gfile.makedirs(directory)
    for name, rows in ((LABEL_ISSUES_FILE, review.label_issues), (NEAR_DUPLICATES_FILE, review.near_duplicates)):
        with tf.io.gfile.GFile(os.path.join(directory, name), "w") as rows_file:
            rows_file.write("".join(json.dumps(row) + "\n" for row in rows))
    _write_json(os.path.join(directory, CALIBRATION_FILE), calibration)


def write_confidence(serving_model_dir: str, confidence: dict) -> str:
    """The confidence threshold record inside the SavedModel, so it travels with every pushed version."""
    path = os.path.join(serving_model_dir, CONFIDENCE_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    _write_json(path, confidence)
    return path


def _write_json(path: str, value: dict) -> None:
    with tf.io.gfile.GFile(path, "w") as json_file:
        json.dump(value, json_file, indent=1)
