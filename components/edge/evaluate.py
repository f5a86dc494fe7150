"""The TFLite models beside the SavedModel's Keras model on the same eval photos: accuracy and single-photo latency.

Every model sees the same decoded pixels (`components.training.data`, as in training and TFMA), one photo at a
time for the TFLite models, as a phone runs them. Latency is the median wall time of one `invoke()` on one CPU
thread, so figures from a shared or a many-core host stay comparable.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time

import numpy as np
import tensorflow as tf

from components.edge.convert import INPUT_SCALE, INPUT_ZERO_POINT, uint8_codes
from components.training import data

THREADS = 1
KERAS_LATENCY_PHOTOS = 20  # Batch-1 calls timed for the SavedModel's model (its accuracy uses whole batches).
EVAL_BATCH = 32


@dataclasses.dataclass
class Scores:
    """Right answers, photos seen and per-photo timings of one model."""

    correct: int = 0
    count: int = 0
    seconds: list[float] = dataclasses.field(default_factory=list)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.count if self.count else None

    @property
    def latency_ms(self) -> float | None:
        return 1000.0 * statistics.median(self.seconds) if self.seconds else None


class TfliteModel:
    """One .tflite model on the TFLite interpreter: float pixels in, float probabilities out, whatever its types."""

    def __init__(self, model_content: bytes):
        self.interpreter = tf.lite.Interpreter(model_content=model_content, num_threads=THREADS)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def check_integer_input(self) -> None:
        """The integer model must take the uint8 codes of [0, 1] pixels, as the README promises phones."""
        scale, zero_point = self.input["quantization"]
        if self.input["dtype"] != np.uint8 or not np.isclose(scale, INPUT_SCALE) or zero_point != INPUT_ZERO_POINT:
            raise RuntimeError(f"int8 model input is {np.dtype(self.input['dtype']).name} with scale {scale} and "
                               f"zero point {zero_point}; expected uint8, {INPUT_SCALE:.6f}, {INPUT_ZERO_POINT}")

    def predict(self, pixels: np.ndarray) -> tuple[np.ndarray, float]:
        """Probabilities for one [S, S, 3] photo, and the seconds `invoke()` took."""
        image = uint8_codes(pixels) if self.input["dtype"] == np.uint8 else pixels.astype(np.float32)
        self.interpreter.set_tensor(self.input["index"], image[np.newaxis])
        started = time.perf_counter()
        self.interpreter.invoke()
        seconds = time.perf_counter() - started
        raw = self.interpreter.get_tensor(self.output["index"])[0]
        scale, zero_point = self.output["quantization"]
        return ((raw.astype(np.float32) - zero_point) * scale if scale else raw.astype(np.float32)), seconds


def evaluate(model: tf.keras.Model, tflite_models: dict[str, TfliteModel], eval_files: list[str],
             image_size: int, saved_model: Scores | None = None) -> dict[str, Scores]:
    """Scores of the Keras model (key "saved_model") and of each TFLite model on every eval record. Given the Keras
    model's right answers (`saved_model`, the Evaluator's), it is only timed."""
    scores = {"saved_model": saved_model or Scores(), **{name: Scores() for name in tflite_models}}
    score_keras = saved_model is None
    batch_predict = tf.function(lambda images: model(images, training=False),
                                input_signature=[tf.TensorSpec([None, image_size, image_size, 3], tf.float32)])
    for images, labels in data.eval_dataset(eval_files, image_size, EVAL_BATCH):
        images, labels = images.numpy(), labels.numpy()
        if score_keras:
            _score(scores["saved_model"], batch_predict(images).numpy(), labels)
        for name, tflite_model in tflite_models.items():
            for pixels, label in zip(images, labels):
                probabilities, seconds = tflite_model.predict(pixels)
                _score(scores[name], probabilities[np.newaxis], label[np.newaxis])
                scores[name].seconds.append(seconds)
        _time_keras(scores["saved_model"], batch_predict, images)
    return scores


def calibration_photos(train_files: list[str], image_size: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """`count` train photos drawn at random (all classes, not the first files' class), as [S, S, 3] pixels."""
    records = tf.data.TFRecordDataset(data.list_files(train_files), compression_type="GZIP")
    records = records.shuffle(10_000, seed=seed).take(count)
    return [image.numpy() for image, _ in records.map(lambda record: data.parse(record, image_size))]


def directory_bytes(directory: str) -> int:
    """Total size of the files under a directory (a SavedModel)."""
    return sum(tf.io.gfile.stat(os.path.join(root, name)).length
               for root, _, names in tf.io.gfile.walk(directory) for name in names)


def _score(scores: Scores, probabilities: np.ndarray, labels: np.ndarray) -> None:
    scores.correct += int(np.sum(np.argmax(probabilities, axis=-1) == labels))
    scores.count += len(labels)


def _time_keras(scores: Scores, batch_predict, images: np.ndarray) -> None:
    for pixels in images[:max(0, KERAS_LATENCY_PHOTOS - len(scores.seconds))]:
        started = time.perf_counter()
        batch_predict(pixels[np.newaxis]).numpy()
        scores.seconds.append(time.perf_counter() - started)
