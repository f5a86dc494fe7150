"""Reading the ingestion's records back (GZIP TFRecords of each split)."""

from __future__ import annotations

from typing import Any, Iterator

from tfx.dsl.io import fileio

from components import artifacts, paths
from components.artifacts import CLASS_FEATURE, LABEL_FEATURE
from components.text import class_name


def split_records(examples_uri: str, features: dict[str, Any], split: str = artifacts.EVAL_SPLIT
                  ) -> Iterator[dict[str, Any]]:
    """Parsed examples of one split (only `features`) as numpy values, in file order."""
    import tensorflow as tf

    files = sorted(fileio.glob(artifacts.split_files(paths.literal(examples_uri), split)[0]))
    if not files:
        return
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    for serialized in dataset.batch(256):
        parsed = tf.io.parse_example(serialized, features)
        batch = {k: v.numpy() for k, v in parsed.items()}
        for i in range(len(serialized)):
            yield {k: v[i] for k, v in batch.items()} | {"serialized": serialized[i].numpy()}


def class_names(examples_uri: str) -> list[str]:
    """Class names in class-id order, from the class index and label pairs of the eval records."""
    import tensorflow as tf

    features = {CLASS_FEATURE: tf.io.FixedLenFeature([], tf.int64), LABEL_FEATURE: tf.io.FixedLenFeature([], tf.string)}
    names: dict[int, str] = {}
    for record in split_records(examples_uri, features):
        names.setdefault(int(record[CLASS_FEATURE]), record[LABEL_FEATURE].decode())
    return [class_name(names, i) for i in range(max(names) + 1)] if names else []
