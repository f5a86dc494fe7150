"""The content-hash split: deterministic, duplicates together, proportions as configured."""

import os

from components import artifacts
from components.ingestion import split


def test_same_bytes_same_split_whatever_the_path():
    data = os.urandom(1000)
    assert split.content_key(data) == split.content_key(bytes(data))
    assert len({split.split_for(split.content_key(data), 0.2) for _ in range(5)}) == 1


def test_key_is_the_sha256_of_the_bytes():
    assert split.content_key(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_eval_fraction_roughly_respected():
    keys = [split.content_key(i.to_bytes(4, "little")) for i in range(20_000)]
    for fraction in (0.1, 0.2, 0.5):
        share = sum(split.split_for(k, fraction) == artifacts.EVAL_SPLIT for k in keys) / len(keys)
        assert abs(share - fraction) < 0.015


def test_raising_the_fraction_only_moves_photos_into_eval():
    """Buckets are a prefix of the hash range: eval at 0.1 is a subset of eval at 0.2 (stable splits)."""
    keys = [split.content_key(i.to_bytes(4, "little")) for i in range(2_000)]
    small = {k for k in keys if split.split_for(k, 0.1) == artifacts.EVAL_SPLIT}
    large = {k for k in keys if split.split_for(k, 0.2) == artifacts.EVAL_SPLIT}
    assert small < large
