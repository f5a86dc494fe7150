"""Reading the ingestion's files back: its summary, its rejects and duplicates manifests and eval records
(GZIP TFRecords)."""

from __future__ import annotations

import json
from typing import Any, Iterator

from tfx.dsl.io import fileio

from components import artifacts, paths
from components.artifacts import CLASS_FEATURE, LABEL_FEATURE
from components.report.text import class_name


def read_json(path: str) -> Any:
    """The parsed file, or None when it is missing or not JSON (the report shows what it can)."""
    if not path or not fileio.exists(path):
        return None
    try:
        with fileio.open(path, "r") as f:
            return json.loads(f.read())
    except (ValueError, OSError):
        return None


def read_jsonl(path: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` of the file's JSON objects, one a line (none when it is missing)."""
    if not fileio.exists(path):
        return []
    rows = []
    with fileio.open(path, "r") as f:
        for line in f:
            if len(rows) >= limit:
                break
            if line.strip():
                rows.append(json.loads(line))
    return rows


def eval_records(examples_uri: str, features: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Parsed eval examples (only `features`) as numpy values, in file order."""
    import tensorflow as tf

    files = sorted(fileio.glob(artifacts.split_files(paths.literal(examples_uri), artifacts.EVAL_SPLIT)[0]))
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
    for record in eval_records(examples_uri, features):
        names.setdefault(int(record[CLASS_FEATURE]), record[LABEL_FEATURE].decode())
    return [class_name(names, i) for i in range(max(names) + 1)] if names else []
