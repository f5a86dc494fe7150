"""Filesystem push in the TF Serving layout (`<base>/<version>/saved_model.pb`) that never exposes a partial model.

The stock Pusher copies straight into `<base>/<unix time>`, so a model server polling the folder can see a version
whose variables are still being written. Here the copy goes to a hidden sibling (TF Serving ignores names that are
not integers) and is renamed to the next integer version once complete: a rename is atomic on a local or POSIX
file system. Object stores (gs://) have no directory rename (TF copies object by object), so there the version is
written in place with `saved_model.pb` last, the file TF Serving waits for. A model already served as the newest
version is not pushed again.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Callable, Optional

import tensorflow as tf
from tfx.dsl.io import fileio
from tfx.utils import io_utils

_TMP_PREFIX = ".incoming-"
_SAVED_MODEL_PATTERN = r"saved_model\.pb$"
_IDENTITY_FILES = ("saved_model.pb", os.path.join("variables", "variables.index"))


def numbered_versions(base_directory: str) -> list[int]:
    """The integer version folders under base_directory, ascending (empty if it does not exist)."""
    if not fileio.exists(base_directory):
        return []
    names = [name.rstrip("/") for name in fileio.listdir(base_directory)]
    return sorted(int(name) for name in names if name.isdigit())


def model_digest(model_dir: str) -> str:
    """A content identity of a SavedModel: its graph and variable index (which holds every tensor's checksum)."""
    digest = hashlib.sha256()
    for relative in _IDENTITY_FILES:
        path = os.path.join(model_dir, relative)
        if fileio.exists(path):
            with fileio.open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()


def served_version_of(model_dir: str, base_directory: str) -> int | None:
    """The newest version if it holds the same model as model_dir, else None."""
    versions = numbered_versions(base_directory)
    if not versions:
        return None
    newest = versions[-1]
    same = model_digest(os.path.join(base_directory, str(newest))) == model_digest(model_dir)
    return newest if same else None


AddFiles = Optional[Callable[[str], None]]  # Writes extra files into a version folder before it is published.


def push_atomically(model_dir: str, base_directory: str, add_files: AddFiles = None) -> tuple[int, str]:
    """Copy model_dir to `<base>/<next version>` so no partial version is ever loadable; returns (version, path).

    `add_files(version_dir)` puts more files beside the SavedModel (e.g. TFLite models) before it is published.
    """
    fileio.makedirs(base_directory)
    if "://" in base_directory:
        return _push_saved_model_last(model_dir, base_directory, add_files)
    staging = os.path.join(base_directory, f"{_TMP_PREFIX}{uuid.uuid4().hex}")
    try:
        io_utils.copy_dir(model_dir, staging)
        if add_files:
            add_files(staging)
        return _rename_to_next_version(staging, base_directory)
    finally:
        if fileio.exists(staging):
            fileio.rmtree(staging)


def _push_saved_model_last(model_dir: str, base_directory: str, add_files: AddFiles) -> tuple[int, str]:
    version = (numbered_versions(base_directory) or [0])[-1] + 1
    target = f"{base_directory.rstrip('/')}/{version}"
    copy_saved_model_last(model_dir, target, add_files)
    return version, target


def copy_saved_model_last(model_dir: str, target: str, add_files: AddFiles = None) -> None:
    """Everything but saved_model.pb, then saved_model.pb: a server that waits for it never loads half a model."""
    io_utils.copy_dir(model_dir, target, deny_regex_patterns=[_SAVED_MODEL_PATTERN])
    if add_files:
        add_files(target)
    io_utils.copy_file(os.path.join(model_dir, "saved_model.pb"), os.path.join(target, "saved_model.pb"))


def _rename_to_next_version(staging: str, base_directory: str, attempts: int = 5) -> tuple[int, str]:
    """Another pusher may take a number between listing and renaming: then try the following one."""
    for _ in range(attempts):
        version = (numbered_versions(base_directory) or [0])[-1] + 1
        target = os.path.join(base_directory, str(version))
        try:
            fileio.rename(staging, target, overwrite=False)
            return version, target
        except tf.errors.AlreadyExistsError:
            continue
    raise RuntimeError(f"could not claim a new version number under {base_directory} after {attempts} attempts")
