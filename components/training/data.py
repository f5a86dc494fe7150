"""tf.data input from the ingested GZIP TFRecords: fast and shuffled for training, exact for evaluation.

Records hold `image` (JPEG at image_size x image_size), `class` (int64 index), `label`, `size`, `source`;
training reads only what the model needs. Images reach the model as float32 pixels in [0, 1] with static
shapes, as XLA and TPUs require.
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from components import artifacts
from components.artifacts import CLASS_FEATURE, IMAGE_FEATURE, SOURCE_FEATURE
from components.errors import UserError
from components.ingestion import split

AUTOTUNE = tf.data.AUTOTUNE
_FEATURES = {IMAGE_FEATURE: tf.io.FixedLenFeature([], tf.string), CLASS_FEATURE: tf.io.FixedLenFeature([], tf.int64)}


def decode_record_image(jpeg: tf.Tensor, image_size: int) -> tf.Tensor:
    """An ingested JPEG as [size, size, 3] float32 in [0, 1]; a record of another size fails loudly."""
    return tf.image.convert_image_dtype(_decode_pixels(jpeg, image_size), tf.float32)


def parse(serialized: tf.Tensor, image_size: int) -> tuple[tf.Tensor, tf.Tensor]:
    image, label = _parse_pixels(serialized, image_size)
    return tf.image.convert_image_dtype(image, tf.float32), label


def augment(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The codelab's augmentation: random left-right flip and random saturation in [0, 2]."""
    image = tf.image.random_flip_left_right(tf.image.convert_image_dtype(image, tf.float32))
    image = tf.clip_by_value(tf.image.random_saturation(image, 0.0, 2.0), 0.0, 1.0)
    return image, label


def cache_fits(records: int, image_size: int, budget_bytes: int) -> bool:
    """Whether the decoded training images fit the in-memory cache budget (training.feature_cache_max_bytes)."""
    return records * image_size * image_size * 3 <= budget_bytes


def train_dataset(patterns: list[str], image_size: int, global_batch: int, shuffle_buffer: int,
                  seed: int | None = None, augmented: bool = True, cache: bool = False) -> tf.data.Dataset:
    """Endless batches of exactly `global_batch`, read in parallel and in relaxed order.

    `cache` decodes each JPEG once and keeps the pixels in memory (the shuffle buffer then holds pixels too):
    on a small host the decode is CPU taken from training every epoch. Without it, the shuffle buffer holds
    compact serialized records and every epoch decodes again.
    """
    files = list_files(patterns)
    records = tf.data.Dataset.from_tensor_slices(files).shuffle(len(files), seed=seed)
    dataset = tf.data.TFRecordDataset(records, compression_type="GZIP", num_parallel_reads=AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = False
    dataset = dataset.with_options(options)
    decode = lambda record: _parse_pixels(record, image_size)  # noqa: E731
    if cache:
        dataset = dataset.map(decode, num_parallel_calls=AUTOTUNE).cache()
    dataset = dataset.shuffle(shuffle_buffer, seed=seed).repeat()
    if not cache:
        dataset = dataset.map(decode, num_parallel_calls=AUTOTUNE)
    to_float = lambda image, label: (tf.image.convert_image_dtype(image, tf.float32), label)  # noqa: E731
    dataset = dataset.map(augment if augmented else to_float, num_parallel_calls=AUTOTUNE)
    return dataset.batch(global_batch, drop_remainder=True).prefetch(AUTOTUNE)


def eval_dataset(patterns: list[str], image_size: int, batch_size: int | None) -> tf.data.Dataset:
    """Every record exactly once, in file order (the last batch may be short; unbatched for None)."""
    dataset = tf.data.TFRecordDataset(list_files(patterns), compression_type="GZIP")
    dataset = dataset.map(lambda record: parse(record, image_size), num_parallel_calls=AUTOTUNE)
    return (dataset.batch(batch_size) if batch_size else dataset).prefetch(AUTOTUNE)


def read_labels(patterns: list[str]) -> np.ndarray:
    """The class index of every record, in file order (eval_dataset's order), without decoding images."""
    return np.fromiter(_read_feature(patterns, CLASS_FEATURE, tf.int64), np.int64)


def read_sources(patterns: list[str]) -> list[str]:
    """The source path of every record, in file order."""
    return [source.decode("utf-8", "surrogateescape") for source in _read_feature(patterns, SOURCE_FEATURE, tf.string)]


def read_folds(patterns: list[str], folds: int) -> np.ndarray:
    """The cross-validation fold of every record, in file order, by ingestion's rule on its image's bytes."""
    images = _read_feature(patterns, IMAGE_FEATURE, tf.string)
    return np.fromiter((split.fold_for(image, folds) for image in images), np.int64)


def _read_feature(patterns: list[str], name: str, dtype: tf.dtypes.DType):
    feature = {name: tf.io.FixedLenFeature([], dtype)}
    dataset = tf.data.TFRecordDataset(list_files(patterns), compression_type="GZIP")
    return dataset.map(lambda record: tf.io.parse_single_example(record, feature)[name]).as_numpy_iterator()


def _decode_pixels(jpeg: tf.Tensor, image_size: int) -> tf.Tensor:
    """uint8 [size, size, 3] with a static shape, as XLA and TPUs require. The accurate IDCT is Pillow's and the
    photo signature's: the default fast one is up to 5 grey levels off, a skew between training and serving."""
    return tf.reshape(tf.io.decode_jpeg(jpeg, channels=3, dct_method="INTEGER_ACCURATE"), [image_size, image_size, 3])


def _parse_pixels(serialized: tf.Tensor, image_size: int) -> tuple[tf.Tensor, tf.Tensor]:
    example = tf.io.parse_single_example(serialized, _FEATURES)
    return _decode_pixels(example[IMAGE_FEATURE], image_size), example[CLASS_FEATURE]


def list_files(patterns: list[str]) -> list[str]:
    files = sorted(f for pattern in patterns for f in tf.io.gfile.glob(pattern))
    if not files:
        raise UserError(f"no TFRecord files match {', '.join(patterns)}")
    return files


def count_records(patterns: list[str]) -> int:
    """Records in a split: from ingestion's summary when present (free), else by reading them (robust)."""
    summary = _summary_count(patterns)
    if summary is not None:
        return summary
    dataset = tf.data.TFRecordDataset(list_files(patterns), compression_type="GZIP", num_parallel_reads=AUTOTUNE)
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))


def _summary_count(patterns: list[str]) -> int | None:
    """Split folder patterns (`artifacts.split_files`) -> sum of `written[name]` in the ingest summary beside them."""
    total = 0
    for pattern in patterns:
        split_dir = os.path.dirname(pattern)
        split = artifacts.split_name_of(split_dir)
        path = os.path.join(os.path.dirname(split_dir), artifacts.SUMMARY_FILE)
        if not tf.io.gfile.exists(path):
            return None
        with tf.io.gfile.GFile(path) as summary_file:
            written = json.load(summary_file).get("written", {})
        if split not in written:
            return None
        total += sum(written[split].values())
    return total
