"""Filesystem push in the TF Serving layout (`<base>/<version>/saved_model.pb`) that never exposes a partial model.

The stock Pusher copies straight into `<base>/<unix time>`, so a model server polling the folder can see a version
whose variables are still being written. Here the copy goes to a hidden sibling (TF Serving ignores names that are
not integers) and is renamed to the next integer version once complete: a rename is atomic on a local or POSIX
file system, and fails when another pusher took the number first. Staging folders that a killed push left behind
are removed by the next push. Object stores (gs://) have no directory rename, so there the version number is
claimed atomically first (see `object_store`) and the version is written in place with `saved_model.pb` last,
the file TF Serving waits for. No push ever removes or rewrites an existing numbered version. A model already
served as the newest version is not pushed again.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
import uuid
from typing import Callable, Optional

import tensorflow as tf
from tfx.dsl.io import fileio
from tfx.utils import io_utils

from components.push.destination import push_failure

_TMP_PREFIX = ".incoming-"
STALE_STAGING_SECONDS = 3600  # A staging folder whose owner cannot be checked is stale after an hour untouched.
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

    `add_files(folder)` puts more files beside the SavedModel (e.g. TFLite models) before it is published. A disk
    that is full, a read-only folder or a file in the way is a UserError saying so.
    """
    try:
        if base_directory.startswith("gs://"):
            return _push_to_object_store(model_dir, base_directory, add_files)
        fileio.makedirs(base_directory)
        remove_stale_staging(base_directory)
        return _push_through_staging(model_dir, base_directory, add_files)
    except (OSError, tf.errors.OpError) as error:
        raise push_failure(base_directory, error) from None


def _push_through_staging(model_dir: str, base_directory: str, add_files: AddFiles) -> tuple[int, str]:
    staging = os.path.join(base_directory, staging_name())
    try:
        io_utils.copy_dir(model_dir, staging)
        if add_files:
            add_files(staging)
        return _rename_to_next_version(staging, base_directory)
    finally:
        if fileio.exists(staging):
            fileio.rmtree(staging)


def staging_name() -> str:
    """`.incoming-<host>-<pid>-<random>`: hidden from TF Serving, and tells a later push whether its owner lives."""
    return f"{_TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}"


def remove_stale_staging(base_directory: str) -> list[str]:
    """Remove the staging folders of pushes that died (their process is gone, or, when that cannot be checked,
    they were left untouched for an hour); a push in progress elsewhere keeps its folder. Returns the removed."""
    removed = []
    for name in fileio.listdir(base_directory):
        name = name.rstrip("/")
        path = os.path.join(base_directory, name)
        if name.startswith(_TMP_PREFIX) and _staging_is_stale(name, path):
            fileio.rmtree(path)
            removed.append(path)
    return removed


def _staging_is_stale(name: str, path: str) -> bool:
    parts = name[len(_TMP_PREFIX):].rsplit("-", 2)
    if len(parts) == 3 and parts[0] == socket.gethostname() and parts[1].isdigit():
        return not _process_alive(int(parts[1]))
    return time.time() - fileio.stat(path).mtime_nsec / 1e9 > STALE_STAGING_SECONDS


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # Alive, owned by another user.
        return True
    return True


def _push_to_object_store(model_dir: str, base_directory: str, add_files: AddFiles) -> tuple[int, str]:
    """Claim the next number atomically (a stale listing only costs a retry), then write saved_model.pb last;
    the extra files are made in a local folder first and written with the model's."""
    from google.api_core.exceptions import GoogleAPICallError

    from components.push.object_store import GcsServingDir

    with tempfile.TemporaryDirectory() as extra:
        if add_files:
            add_files(extra)
        sources = {relative: os.path.join(folder, relative)
                   for folder in (extra, model_dir) for relative in model_files(folder)}
        try:
            serving = GcsServingDir(base_directory)
            version = serving.claim_next(serving.versions())
            for relative in saved_model_last(list(sources)):
                serving.write_new(f"{version}/{relative}", sources[relative])
        except GoogleAPICallError as error:  # Forbidden, a bucket that does not exist, an object in the way.
            raise push_failure(base_directory, error) from None
    return version, f"{serving.url}/{version}"


def model_files(model_dir: str) -> list[str]:
    """Every file under model_dir, as paths relative to it."""
    files = []
    for folder, _, names in fileio.walk(model_dir):
        relative = os.path.relpath(folder, model_dir)
        files += [name if relative == "." else f"{relative}/{name}" for name in names]
    return files


def saved_model_last(relative_paths: list[str]) -> list[str]:
    """saved_model.pb after everything else: a server that waits for it never loads half a model."""
    return sorted(relative_paths, key=lambda path: (path == "saved_model.pb", path))


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
