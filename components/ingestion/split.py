"""Train/eval assignment keyed on the photo's bytes, so byte-identical duplicates never straddle splits."""

from __future__ import annotations

import hashlib

from components.artifacts import EVAL_SPLIT, TRAIN_SPLIT

BUCKETS = 10_000


def content_key(data: bytes) -> str:
    """SHA-256 of the file's bytes: stable across runs, machines, paths and file names."""
    return hashlib.sha256(data).hexdigest()


def bucket(key: str, buckets: int) -> int:
    """The content key's hash bucket among `buckets`."""
    return int(key[:16], 16) % buckets


def fold_for(image: bytes, folds: int) -> int:
    """The cross-validation fold of a record among `folds`, from its image's bytes: byte-identical photos share a
    fold, as they share a split (the Trainer's label-issue pass and `make bench-cv` both deal folds this way)."""
    return bucket(content_key(image), folds)


def split_for(key: str, eval_fraction: float) -> str:
    """`eval` for the first eval_fraction of BUCKETS hash buckets, `train` for the rest."""
    return EVAL_SPLIT if bucket(key, BUCKETS) < round(eval_fraction * BUCKETS) else TRAIN_SPLIT
