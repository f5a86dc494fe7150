"""Where a batch prediction job writes: a fresh staging folder, moved into the output dir only once every write
succeeded, so one output dir never mixes two runs' shards and never holds a summary of a job that failed.

Beam's own file sinks do the same one level down (a `beam-temp-*` folder renamed into place when the job
succeeds); this does it for the whole result, shards and `summary.json` together, the summary last. The staging
folder's path holds no glob character (Beam's sinks read their paths as patterns, so `out[1]` matched nothing):
it sits in the nearest ancestor of the output dir without one, named `.predict-staging-<host>-<pid>-<random>`.
It is removed on success, failure and Ctrl-C; one left by a killed run (its process gone) is removed by the next
run that stages beside it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import socket
import uuid
from typing import Iterator

from apache_beam.io.filesystems import FileSystems

from components import paths
from components.errors import UserError, printable
from components.ingestion.sources import is_remote

STAGING_PREFIX = ".predict-staging-"


@contextlib.contextmanager
def staged(output_dir: str, result_patterns: tuple[str, ...], last: str, overwrite: bool) -> Iterator[str]:
    """A fresh staging folder for the block to write into; when the block succeeds its files matching
    `result_patterns` are moved into `output_dir` (replacing its earlier results when `overwrite`), `last`
    (the summary) after all the others. An output dir that already holds files is refused unless `overwrite`."""
    output_dir = _absolute(output_dir)
    _check_destination(output_dir, result_patterns, overwrite)
    parent = _glob_free_ancestor(output_dir)
    remove_leftovers(parent)
    staging = FileSystems.join(parent, f"{STAGING_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    _attempt(lambda: FileSystems.mkdirs(staging), f"cannot create a staging folder in {parent}")
    try:
        yield staging
        _publish(staging, output_dir, result_patterns, last)
    finally:
        _delete(staging)


def remove_leftovers(parent: str) -> list[str]:
    """Delete the staging folders under `parent` whose run is gone (this host, no such process); their paths."""
    this_host = socket.gethostname()
    gone = []
    for path in _entries(parent, f"{STAGING_PREFIX}*"):
        host, _, pid = path.rstrip("/").rsplit("/", 1)[-1][len(STAGING_PREFIX):].rpartition("-")[0].rpartition("-")
        if host == this_host and pid.isdigit() and not _alive(int(pid)):
            _delete(path.rstrip("/"))
            gone.append(path)
    return gone


def _check_destination(output_dir: str, result_patterns: tuple[str, ...], overwrite: bool) -> None:
    if not is_remote(output_dir) and os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise UserError(f"--output-dir {printable(output_dir)} is a file, not a folder; choose another")
    held = _entries(output_dir, "*")
    if not held:
        return
    if not overwrite:
        raise UserError(f"--output-dir {printable(output_dir)} already holds {len(held)} file(s); pass --overwrite "
                        "to replace its results, or choose another --output-dir")
    results = {path for pattern in result_patterns for path in _entries(output_dir, pattern)}
    others = sorted(set(held) - results)
    if others:
        raise UserError(f"--output-dir {printable(output_dir)} holds files that are not prediction results "
                        f"({', '.join(printable(os.path.basename(p.rstrip('/'))) for p in others[:3])}"
                        f"{', ...' if len(others) > 3 else ''}); --overwrite replaces results only")


def _publish(staging: str, output_dir: str, result_patterns: tuple[str, ...], last: str) -> None:
    """Earlier results out (the summary first, so no summary ever describes shards it did not count), then the
    new shards in, then the new summary."""
    old = [path for pattern in result_patterns for path in _entries(output_dir, pattern)]
    new = sorted(path for pattern in result_patterns for path in _entries(staging, pattern))
    new.sort(key=lambda path: path.endswith("/" + last))
    old.sort(key=lambda path: not path.endswith("/" + last))
    where = f"cannot move the results into {printable(output_dir)}"
    if not is_remote(output_dir):
        _attempt(lambda: os.makedirs(output_dir, exist_ok=True), where)
    if old:
        _attempt(lambda: FileSystems.delete(old), where)
    targets = [FileSystems.join(output_dir, path.rsplit("/", 1)[-1]) for path in new]
    _attempt(lambda: FileSystems.rename(new, targets), where)


def _entries(folder: str, pattern: str) -> list[str]:
    """What `pattern` matches directly in `folder` (a literal path), files and folders (Beam's match lists files
    only)."""
    import tensorflow as tf

    return tf.io.gfile.glob(FileSystems.join(paths.literal(folder), pattern))


def _glob_free_ancestor(output_dir: str) -> str:
    parent = FileSystems.split(output_dir)[0]
    while glob.has_magic(parent):
        parent = FileSystems.split(parent)[0]
    return parent


def _absolute(path: str) -> str:
    return path.rstrip("/") if is_remote(path) else os.path.abspath(path)


def _delete(path: str) -> None:
    with contextlib.suppress(Exception):  # Already gone, or never made; a later run removes what is left.
        FileSystems.delete([path + "/" if is_remote(path) else path])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # Someone else's process.
        return True
    return True


def _attempt(action, what: str) -> None:
    """Run a file system action; an OS or Beam I/O error becomes one UserError line saying what failed."""
    try:
        action()
    except Exception as error:  # OSError, BeamIOError (which wraps the OS errors per path)
        reason = getattr(error, "exception_details", None) or error
        if isinstance(reason, dict):
            reason = next(iter(reason.values()), error)
        raise UserError(f"{what}: {printable(str(reason).splitlines()[0] if str(reason) else type(reason).__name__)}"
                        ) from None
