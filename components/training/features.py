"""The frozen part of a model, run once: cached activations for each view of each photo, and the tf.data input
that trains the rest of the model on them.

Keras skips the backward pass of frozen layers but still runs them forward every epoch, so on a frozen backbone
the forward passes are the whole cost of an epoch. Here they are paid once: per training photo for each
augmentation view (the photo and its mirror), per eval photo once. A training example picks one of its views at
random each epoch, which is exactly the training distribution of a random left-right flip. The codelab's random
saturation is continuous and cannot be cached exactly; this path drops it (README: "The Trainer's recipe").
The activations go to a store (`feature_store.py`): host memory when they fit in
training.feature_cache_max_bytes, local scratch disk when they do not (`plan`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable

import numpy as np
import tensorflow as tf

from components.training import data
from components.training.feature_store import DISK, MEMORY, DiskTable, MemoryStore, MemoryTable

log = logging.getLogger(__name__)
AUTOTUNE = tf.data.AUTOTUNE
TRAIN_VIEWS = 2  # The photo and its mirror.
OFF = "off"
Table = MemoryTable | DiskTable
Forward = Callable[[np.ndarray], np.ndarray]  # A batch of exactly the global batch -> float32 outputs.


@dataclasses.dataclass(frozen=True)
class CachePlan:
    """Where the activations go (memory | disk | off) and why, as the training history records it."""

    kind: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Cached:
    """Activations of the frozen part: train rows [views, *shape] per record, eval rows one per record."""

    train: Table
    train_labels: np.ndarray
    eval: Table
    eval_labels: np.ndarray


def cache_bytes(train_records: int, eval_records: int, shape: tuple[int, ...]) -> int:
    """Host memory the cache takes, in float32."""
    return (train_records * TRAIN_VIEWS + eval_records) * int(np.prod(shape)) * 4


def plan(enabled: bool, has_frozen_part: bool, needed_bytes: int, budget_bytes: int,
         free_disk_bytes: int) -> CachePlan:
    """Where the cache goes; pure, so every branch is testable without building a model."""
    if not has_frozen_part:
        return CachePlan(OFF, "the model has no frozen part; training end to end")
    if not enabled:
        return CachePlan(OFF, "training.feature_cache is false; training end to end")
    need, budget = f"{needed_bytes / 2**20:.0f} MiB", f"{budget_bytes / 2**20:.0f} MiB"
    if needed_bytes <= budget_bytes:
        return CachePlan(MEMORY, f"{need} of activations fit in training.feature_cache_max_bytes ({budget})")
    if needed_bytes > free_disk_bytes:
        return CachePlan(OFF, f"{need} of activations exceed training.feature_cache_max_bytes ({budget}) and the "
                              f"{free_disk_bytes / 2**20:.0f} MiB free on the scratch disk; training end to end, "
                              "which runs the frozen layers again every epoch")
    return CachePlan(DISK, f"{need} of activations exceed training.feature_cache_max_bytes ({budget}); "
                           "spilled to local scratch disk and streamed back each epoch")


def compute(frozen: Forward, shape: tuple[int, ...], train_files: list[str], eval_files: list[str], image_size: int,
            global_batch: int, store) -> Cached:
    """Run the frozen part (`frozen`: batches of exactly `global_batch` -> activations of `shape`, e.g. a
    `frozen_pass.FrozenPass`'s) over every view of every record, in file order, into `store` (a `feature_store`
    MemoryStore or DiskStore)."""
    train, train_labels = _activations(frozen, shape, train_files, image_size, global_batch, TRAIN_VIEWS, store)
    evaluation, eval_labels = _activations(frozen, shape, eval_files, image_size, global_batch, 1, store)
    return Cached(train, train_labels, evaluation, eval_labels)


def train_dataset(views: np.ndarray | Table, labels: np.ndarray, global_batch: int, seed: int,
                  keep: np.ndarray | None = None) -> tf.data.Dataset:
    """Endless shuffled batches of exactly `global_batch` of the records where `keep` is true (all without it);
    each example takes one of its views at random. `views`: a table, or an array [records, views, *shape]."""
    table = _table(views)
    pick = lambda example, label: (tf.gather(example, tf.random.uniform([], 0, table.views, tf.int32)), label)  # noqa
    dataset = table.shuffled(labels, seed, keep).repeat()
    return dataset.map(pick, num_parallel_calls=AUTOTUNE).batch(global_batch, drop_remainder=True).prefetch(AUTOTUNE)


def eval_dataset(features: np.ndarray | Table, labels: np.ndarray, batch_size: int) -> tf.data.Dataset:
    rows = features.dataset() if isinstance(features, Table) else tf.data.Dataset.from_tensor_slices(features)
    return tf.data.Dataset.zip((rows, tf.data.Dataset.from_tensor_slices(labels))).batch(batch_size).prefetch(AUTOTUNE)


def predict(model: tf.keras.Model, inputs: np.ndarray | Table, global_batch: int) -> np.ndarray:
    """`model` over host arrays or every row of a table, in padded batches of exactly `global_batch` (static
    shapes), as float32 in memory."""
    if isinstance(inputs, Table):
        dataset, count = inputs.dataset(), inputs.rows
    else:
        dataset, count = tf.data.Dataset.from_tensor_slices(inputs), len(inputs)
    return _padded_predict(keras_forward(model), output_shape(model), dataset, count, global_batch, MemoryStore(),
                           views=1).array


def predict_photos(model: tf.keras.Model, views: Table, records: np.ndarray, global_batch: int) -> np.ndarray:
    """`model` over view 0 (the photo itself) of the records where `records` is true, in record order."""
    wanted = tf.constant(np.repeat(np.asarray(records, bool), views.views) & (np.arange(views.rows) % views.views == 0))
    rows = views.dataset().enumerate().filter(lambda index, _: tf.gather(wanted, index)).map(lambda _, row: row)
    return _padded_predict(keras_forward(model), output_shape(model), rows, int(np.sum(records)), global_batch,
                           MemoryStore(), views=1).array


def _table(views: np.ndarray | Table) -> Table:
    if isinstance(views, Table):
        return views
    return MemoryTable(np.asarray(views, np.float32).reshape(-1, *views.shape[2:]), views.shape[1])


def keras_forward(model: tf.keras.Model) -> Forward:
    """`model` as a Forward: Keras runs it under the strategy it was built in."""
    return lambda batch: np.asarray(model.predict_on_batch(batch), np.float32)


def output_shape(model: tf.keras.Model) -> tuple[int, ...]:
    """One output's shape, without the batch dimension."""
    return tuple(model.output.shape[1:])


def _activations(frozen: Forward, shape: tuple[int, ...], files: list[str], image_size: int, global_batch: int,
                 views: int, store) -> tuple[Table, np.ndarray]:
    """The frozen part over each record (and its mirror, interleaved after it, for two views), and the labels."""
    labels = data.read_labels(files)
    images = data.eval_dataset(files, image_size, batch_size=None).map(lambda image, _: image)
    if views == TRAIN_VIEWS:
        images = images.map(lambda image: tf.stack([image, tf.image.flip_left_right(image)])).unbatch()
    return _padded_predict(frozen, shape, images, len(labels) * views, global_batch, store, views), labels


def _padded_predict(forward: Forward, shape: tuple[int, ...], dataset: tf.data.Dataset, count: int,
                    global_batch: int, store, views: int) -> Table:
    """TPUs need every batch full: pad the last one with zeros and drop their outputs. Batches go to the store
    as they come, so a spilled cache never sits in memory whole."""
    padding = -count % global_batch
    zeros = dataset.take(1).map(tf.zeros_like).repeat(padding)
    batches = dataset.concatenate(zeros).batch(global_batch, drop_remainder=True).prefetch(AUTOTUNE)
    writer, left = store.writer(count, shape, views), count
    for batch in batches:
        outputs = forward(batch.numpy())[:left]
        writer.add(outputs)
        left -= len(outputs)
    return writer.finish()
