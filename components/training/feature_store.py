"""Where the frozen part's activations live while the rest of the model trains on them: in host memory when they
fit in training.feature_cache_max_bytes, else in sharded files on local scratch disk, streamed back with tf.data.

A table holds rows of one shape in record order, `views` consecutive rows per record (a training photo, then its
mirror). Both kinds serve the same two reads: every row in order (to run a model over them) and, for training,
each record's views with its label, in a new order every pass. Spilled files go to a fresh folder under the
system's temporary directory, never into an artifact, and are removed when the store closes, however the
training ends. They hold float32, so both stores give bit-identical training inputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from typing import Iterator

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
MEMORY, DISK = "memory", "disk"
SHARD_BYTES = 64 * 2**20  # Per spilled file: few files open at once, enough of them to mix on reading.
MAX_OPEN_SHARDS = 64  # Spilled files read at once when training (each holds a read buffer).
SCRATCH_PREFIX = "flowers-feature-cache-"


@dataclasses.dataclass(frozen=True)
class MemoryTable:
    array: np.ndarray  # [records * views, *shape] float32
    views: int

    @property
    def rows(self) -> int:
        return len(self.array)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape[1:])

    def dataset(self) -> tf.data.Dataset:
        """Every row, in order."""
        return tf.data.Dataset.from_tensor_slices(self.array)

    def shuffled(self, labels: np.ndarray, seed: int, keep: np.ndarray | None = None) -> tf.data.Dataset:
        """(views [views, *shape], label) of every record (of those where `keep` is true), in a new random order
        each pass."""
        grouped = self.array.reshape(-1, self.views, *self.shape)
        indexed = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices((grouped, labels)),
                                       tf.data.Dataset.range(len(labels))))
        kept = _kept(keep, len(labels))
        records = indexed.filter(lambda _, index: tf.gather(kept, index)).map(lambda record, _: record)
        return records.shuffle(len(labels), seed=seed)


@dataclasses.dataclass(frozen=True)
class Shard:
    path: str
    first_record: int
    records: int


@dataclasses.dataclass(frozen=True)
class DiskTable:
    shards: tuple[Shard, ...]
    shape: tuple[int, ...]
    views: int
    shuffle_buffer: int  # Records mixed in memory on top of the shuffled, interleaved shards.

    @property
    def rows(self) -> int:
        return sum(shard.records for shard in self.shards) * self.views

    def dataset(self) -> tf.data.Dataset:
        """Every row, in order."""
        return tf.data.TFRecordDataset([s.path for s in self.shards]).map(self._decode, num_parallel_calls=AUTOTUNE)

    def shuffled(self, labels: np.ndarray, seed: int, keep: np.ndarray | None = None) -> tf.data.Dataset:
        """(views, label) of every record (of those where `keep` is true): the shards in a new order each pass,
        read interleaved (one record from each in turn), then mixed in a buffer of `shuffle_buffer` records.
        Deterministic for a seed."""
        all_labels, kept = tf.constant(labels), _kept(keep, len(labels))

        def records(path, first, count):
            views = tf.data.TFRecordDataset(path).map(self._decode).batch(self.views, drop_remainder=True)
            indexed = tf.data.Dataset.zip((views, tf.data.Dataset.range(first, first + count)))
            return indexed.filter(lambda _, index: tf.gather(kept, index)).map(
                lambda views, index: (views, tf.gather(all_labels, index)))

        columns = [[s.path for s in self.shards], [s.first_record for s in self.shards],
                   [s.records for s in self.shards]]
        order = tf.data.Dataset.from_tensor_slices(tuple(np.asarray(c) for c in columns))
        order = order.shuffle(len(self.shards), seed=seed)
        mixed = order.interleave(records, cycle_length=min(len(self.shards), MAX_OPEN_SHARDS), block_length=1,
                                 num_parallel_calls=AUTOTUNE, deterministic=True)
        return mixed.shuffle(max(1, min(self.shuffle_buffer, len(labels))), seed=seed)

    def _decode(self, row: tf.Tensor) -> tf.Tensor:
        return tf.reshape(tf.io.decode_raw(row, tf.float32), self.shape)


class MemoryWriter:
    """Fills one preallocated array, so the cache never takes twice its size while it is built."""

    def __init__(self, rows: int, shape: tuple[int, ...], views: int):
        self._array, self._views, self._filled = np.empty((rows, *shape), np.float32), views, 0

    def add(self, batch: np.ndarray) -> None:
        self._array[self._filled:self._filled + len(batch)] = batch
        self._filled += len(batch)

    def finish(self) -> MemoryTable:
        _check_count(self._filled, len(self._array))
        return MemoryTable(self._array, self._views)


class DiskWriter:
    """Writes rows as raw float32 TFRecords, a new file every `records_per_shard` records (whole records only)."""

    def __init__(self, prefix: str, rows: int, shape: tuple[int, ...], views: int, shuffle_buffer: int,
                 shard_bytes: int):
        self._prefix, self._rows, self._shape, self._views = prefix, rows, shape, views
        self._shuffle_buffer = shuffle_buffer
        self._records_per_shard = max(1, shard_bytes // (int(np.prod(shape)) * 4 * views))
        self._shards: list[Shard] = []
        self._writer, self._path, self._in_shard, self._written = None, "", 0, 0

    def add(self, batch: np.ndarray) -> None:
        for row in np.asarray(batch, np.float32):
            if self._writer is None:
                self._open_shard()
            self._writer.write(row.tobytes())
            self._in_shard += 1
            self._written += 1
            if self._in_shard == self._records_per_shard * self._views:
                self._close_shard()

    def finish(self) -> DiskTable:
        if self._writer is not None:
            self._close_shard()
        _check_count(self._written, self._rows)
        return DiskTable(tuple(self._shards), self._shape, self._views, self._shuffle_buffer)

    def _open_shard(self) -> None:
        self._path = f"{self._prefix}-{len(self._shards):05d}.rows"
        self._writer, self._in_shard = tf.io.TFRecordWriter(self._path), 0

    def _close_shard(self) -> None:
        self._writer.close()
        first = sum(shard.records for shard in self._shards)
        self._shards.append(Shard(self._path, first, self._in_shard // self._views))
        self._writer = None


class MemoryStore:
    kind = MEMORY

    def writer(self, rows: int, shape: tuple[int, ...], views: int) -> MemoryWriter:
        return MemoryWriter(rows, shape, views)


class DiskStore:
    """Tables as files in one scratch folder of its own, made when the store opens."""

    kind = DISK

    def __init__(self, shuffle_buffer: int, shard_bytes: int = SHARD_BYTES, parent: str | None = None):
        self.directory = tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=parent)
        self._shuffle_buffer, self._shard_bytes, self._tables = shuffle_buffer, shard_bytes, 0

    def writer(self, rows: int, shape: tuple[int, ...], views: int) -> DiskWriter:
        self._tables += 1
        prefix = os.path.join(self.directory, f"table-{self._tables:02d}")
        return DiskWriter(prefix, rows, shape, views, self._shuffle_buffer, self._shard_bytes)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def open_store(kind: str, shuffle_buffer: int, **disk_options) -> Iterator[MemoryStore | DiskStore]:
    """The store for a plan's kind; a disk store's folder is removed on the way out, also on failure."""
    if kind == MEMORY:
        yield MemoryStore()
        return
    store = DiskStore(shuffle_buffer, **disk_options)
    try:
        yield store
    finally:
        store.close()


def _kept(keep: np.ndarray | None, records: int) -> tf.Tensor:
    """Which records a pass reads, as a tensor to index: all of them without `keep`."""
    return tf.constant(np.ones(records, bool) if keep is None else np.asarray(keep, bool))


def free_scratch_bytes() -> int:
    """Free space where a disk store would write."""
    return shutil.disk_usage(tempfile.gettempdir()).free


def _check_count(written: int, expected: int) -> None:
    if written != expected:
        raise ValueError(f"feature store: {written} rows written where {expected} were expected")
