"""The frozen part of a model, run once: cached activations for each view of each photo, and the tf.data input
that trains the rest of the model on them.

Keras skips the backward pass of frozen layers but still runs them forward every epoch, so on a frozen backbone
the forward passes are the whole cost of an epoch. Here they are paid once: per training photo for each
augmentation view (the photo and its mirror), per eval photo once. A training example picks one of its views at
random each epoch, which is exactly the training distribution of a random left-right flip. The codelab's random
saturation is continuous and cannot be cached exactly; this path drops it (README: "The Trainer's recipe").
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import tensorflow as tf

from components.training import data

log = logging.getLogger(__name__)
AUTOTUNE = tf.data.AUTOTUNE
TRAIN_VIEWS = 2  # The photo and its mirror.


@dataclasses.dataclass(frozen=True)
class Cached:
    """Activations of the frozen part: train [records, views, *shape], eval [records, *shape], both float32."""

    train: np.ndarray
    train_labels: np.ndarray
    eval: np.ndarray
    eval_labels: np.ndarray


def cache_bytes(train_records: int, eval_records: int, shape: tuple[int, ...]) -> int:
    """Host memory the cache takes, in float32."""
    return (train_records * TRAIN_VIEWS + eval_records) * int(np.prod(shape)) * 4


def compute(frozen: tf.keras.Model, train_files: list[str], eval_files: list[str], image_size: int,
            global_batch: int) -> Cached:
    """Run `frozen` over every view of every record, in file order, under the strategy it was built in."""
    train, train_labels = _activations(frozen, train_files, image_size, global_batch, mirrored=True)
    evaluation, eval_labels = _activations(frozen, eval_files, image_size, global_batch, mirrored=False)
    return Cached(train.reshape(len(train_labels), TRAIN_VIEWS, *train.shape[1:]), train_labels,
                  evaluation, eval_labels)


def train_dataset(views: np.ndarray, labels: np.ndarray, global_batch: int, seed: int) -> tf.data.Dataset:
    """Endless shuffled batches of exactly `global_batch`; each example takes one of its views at random."""
    count = views.shape[1]
    pick = lambda example, label: (tf.gather(example, tf.random.uniform([], 0, count, tf.int32)), label)  # noqa
    dataset = tf.data.Dataset.from_tensor_slices((views, labels)).shuffle(len(labels), seed=seed).repeat()
    return dataset.map(pick, num_parallel_calls=AUTOTUNE).batch(global_batch, drop_remainder=True).prefetch(AUTOTUNE)


def eval_dataset(features: np.ndarray, labels: np.ndarray, batch_size: int) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((features, labels)).batch(batch_size).prefetch(AUTOTUNE)


def predict(model: tf.keras.Model, inputs: np.ndarray, global_batch: int) -> np.ndarray:
    """`model` over host arrays in padded batches of exactly `global_batch` (static shapes), as float32."""
    dataset = tf.data.Dataset.from_tensor_slices(inputs)
    return _padded_predict(model, dataset, len(inputs), global_batch)


def _activations(frozen: tf.keras.Model, files: list[str], image_size: int, global_batch: int,
                 mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
    """The frozen part over each record (and its mirror, interleaved after it when `mirrored`), and the labels."""
    labels = data.read_labels(files)
    images = data.eval_dataset(files, image_size, batch_size=None).map(lambda image, _: image)
    if mirrored:
        images = images.map(lambda image: tf.stack([image, tf.image.flip_left_right(image)])).unbatch()
    count = len(labels) * (TRAIN_VIEWS if mirrored else 1)
    return _padded_predict(frozen, images, count, global_batch), labels


def _padded_predict(model: tf.keras.Model, dataset: tf.data.Dataset, count: int, global_batch: int) -> np.ndarray:
    """TPUs need every batch full: pad the last one with zeros and drop their outputs."""
    padding = -count % global_batch
    zeros = dataset.take(1).map(tf.zeros_like).repeat(padding)
    batches = dataset.concatenate(zeros).batch(global_batch, drop_remainder=True).prefetch(AUTOTUNE)
    outputs = model.predict(batches, verbose=0)
    return np.asarray(outputs, np.float32)[:count]
