"""Thumbnails of ingested photos by source path, from the records of every split: the report embeds them for the
photos the Trainer flagged (label issues, near-duplicates), and loads no model."""

from __future__ import annotations

from typing import Iterable

from components.artifacts import IMAGE_FEATURE, SOURCE_FEATURE, SPLITS
from components.report import examples_io

THUMBNAIL_QUALITY = 80  # Re-encoded for the report: a third of the size of the quality-95 records.


def thumbnails(examples_uri: str, sources: Iterable[str]) -> dict[str, bytes]:
    """A JPEG thumbnail for each of `sources` found in the Examples artifact (absent ones are left out)."""
    import tensorflow as tf

    wanted = set(sources)
    found: dict[str, bytes] = {}
    if not wanted or not examples_uri:
        return found
    features = {name: tf.io.FixedLenFeature([], tf.string) for name in (IMAGE_FEATURE, SOURCE_FEATURE)}
    for split in SPLITS:
        for record in examples_io.split_records(examples_uri, features, split):
            source = record[SOURCE_FEATURE].decode("utf-8", "surrogateescape")
            if source in wanted:
                found[source] = thumbnail(record[IMAGE_FEATURE])
                if len(found) == len(wanted):
                    return found
    return found


def thumbnail(jpeg: bytes) -> bytes:
    import tensorflow as tf

    return tf.io.encode_jpeg(tf.io.decode_jpeg(jpeg, channels=3), quality=THUMBNAIL_QUALITY).numpy()
