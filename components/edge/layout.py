"""Where the edge files live: in the EdgeModel artifact, and in a pushed version (`<version>/tflite/`).

The artifact holds `push/` (exactly what goes next to the SavedModel: the models that passed the accuracy check,
and the class names file), `rejected/` (models kept for inspection only) and the metrics file (figures and
decisions); the file names are `components.artifacts`'.
The pusher needs nothing but `add_to_version`, so it never learns what the files are.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tfx.dsl.io import fileio
from tfx.utils import io_utils

from components.artifacts import EDGE_METRICS_FILE

PUSH_DIR = "push"
REJECTED_DIR = "rejected"
VERSION_DIR = "tflite"  # Inside a pushed version; TF Serving ignores folders it does not know.
MODEL_FILES = {"float16": "model_float16.tflite", "int8": "model_int8.tflite"}
MODEL_ORDER = ("saved_model", "float16", "int8")  # How the metrics' models are listed: the reference first.


def model_order(name: str) -> tuple[int, str]:
    """Sort key of a metrics model name: MODEL_ORDER, then any other name alphabetically."""
    return (MODEL_ORDER.index(name) if name in MODEL_ORDER else len(MODEL_ORDER), name)


def add_to_version(edge_uri: str, version_dir: str) -> None:
    """Copy the artifact's accepted files into `<version_dir>/tflite/` (nothing when none were accepted)."""
    accepted = os.path.join(edge_uri, PUSH_DIR)
    if fileio.exists(accepted) and fileio.listdir(accepted):
        io_utils.copy_dir(accepted, os.path.join(version_dir, VERSION_DIR))


def read_metrics(edge_uri: str) -> dict[str, Any] | None:
    path = os.path.join(edge_uri, EDGE_METRICS_FILE)
    if not edge_uri or not fileio.exists(path):
        return None
    with fileio.open(path, "r") as f:
        return json.loads(f.read())


def write_metrics(edge_uri: str, metrics: dict[str, Any]) -> None:
    fileio.makedirs(edge_uri)
    with fileio.open(os.path.join(edge_uri, EDGE_METRICS_FILE), "w") as f:
        f.write(json.dumps(metrics, indent=2, sort_keys=True))


def write_file(directory: str, name: str, content: bytes | str) -> str:
    fileio.makedirs(directory)
    path = os.path.join(directory, name)
    with fileio.open(path, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
    return path
