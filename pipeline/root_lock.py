"""One run at a time per pipeline root: a second `run` on a root in use is refused at once.

Two runs on one root both trained and both pushed, and each summary could describe the other. An exclusive
`flock` on `<root>/.run.lock` is held for the whole run; the kernel drops it when the process ends, even on
kill -9, so a dead run never blocks the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import Iterator

from components.errors import UserError, printable

LOCK_FILE = ".run.lock"


@contextlib.contextmanager
def exclusive_run(pipeline_root: str) -> Iterator[None]:
    """Hold the root's lock for the block; UserError naming the other run if it is taken."""
    descriptor = _open_lock_file(pipeline_root)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip() or "another process"
            raise UserError(f"another run is using PIPELINE_ROOT {printable(pipeline_root)} ({printable(holder)}); "
                            "wait for it to finish, or pass another --pipeline-root") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # Releases the lock.


def _open_lock_file(pipeline_root: str) -> int:
    """The lock file's descriptor; a root that is a file, or a lock file that is a folder, is a UserError."""
    path = os.path.join(pipeline_root, LOCK_FILE)
    try:
        os.makedirs(pipeline_root, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except FileExistsError:
        raise UserError(f"PIPELINE_ROOT {printable(pipeline_root)} is a file, not a folder; "
                        "pass another --pipeline-root") from None
    except OSError as error:
        raise UserError(f"cannot open the run lock {printable(path)}: {error.strerror}"
                        f"{' (a folder is in its place; remove it)' if os.path.isdir(path) else ''}") from None


def in_use(pipeline_root: str) -> bool:
    """Whether a run holds the root now (so its RUNNING steps are live, not left over from a killed run)."""
    path = os.path.join(pipeline_root, LOCK_FILE)
    if not os.path.exists(path):
        return False
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
