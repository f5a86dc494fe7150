"""The curated schema (schema.pbtxt, the single source of truth) and copies derived for other settings."""

from __future__ import annotations

import hashlib
import os
from typing import Sequence

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

CURATED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.pbtxt")


def load_curated() -> schema_pb2.Schema:
    with open(CURATED_FILE) as handle:
        return text_format.Parse(handle.read(), schema_pb2.Schema())


def derive(classes: Sequence[str], image_size: int) -> schema_pb2.Schema:
    """The curated schema with the class, label and size domains set for these classes and image size."""
    schema = load_curated()
    features = {feature.name: feature for feature in schema.feature}
    features["class"].int_domain.max = len(classes) - 1
    del features["label"].string_domain.value[:]
    features["label"].string_domain.value.extend(classes)
    features["size"].int_domain.min = features["size"].int_domain.max = image_size
    return schema


def schema_file(classes: Sequence[str], image_size: int, work_dir: str) -> str:
    """Path for ImportSchemaGen: the curated file itself, or a derived copy written under work_dir.

    The derived file's name carries a digest of its content, so runs with other settings never overwrite it
    and an unchanged setting reuses (and caches on) the same path. work_dir may be gs://.
    """
    schema = derive(classes, image_size)
    if schema == load_curated():
        return CURATED_FILE
    text = text_format.MessageToString(schema)
    from apache_beam.io.filesystems import FileSystems  # Local and gs:// without loading TensorFlow.

    path = FileSystems.join(work_dir, "schemas", f"schema-{hashlib.sha256(text.encode()).hexdigest()[:12]}.pbtxt")
    if not FileSystems.exists(path):
        with FileSystems.create(path) as handle:
            handle.write(text.encode())
    return path
