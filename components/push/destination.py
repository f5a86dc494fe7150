"""The serving dir as a place to write: refused in one sentence before a run, and push failures as sentences."""

from __future__ import annotations

import errno
import os

from components.errors import UserError, printable


def check_serving_dir(serving_dir: str) -> None:
    """Before anything runs: a local serving dir must be (or be creatable as) a writable folder."""
    if "://" in serving_dir:
        return  # Object stores are checked by the push itself; a probe here would need credentials.
    path = os.path.abspath(serving_dir)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UserError(f"serving dir {printable(path)}: {printable(existing)} is a file, not a folder; "
                        "choose another --serving-dir")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"serving dir {printable(path)}: {printable(existing)} is not writable (read-only "
                        "folder or file system); choose another --serving-dir or fix its permissions")


def push_failure(serving_dir: str, error: Exception) -> UserError:
    """A failed copy as one sentence: why (disk full, read-only, not a folder) and that nothing was served."""
    reason = _reason(error)
    return UserError(f"cannot push the model to serving dir {printable(serving_dir)}: {reason}; no new version "
                     "was served and the versions already there are untouched")


def _reason(error: Exception) -> str:
    code = getattr(error, "errno", None)
    if code is None and hasattr(error, "message"):  # tf.errors.OpError: the OS reason is in the message.
        message = str(error.message)
        code = next((c for c, text in _OS_MESSAGES.items() if text in message), None)
        if code is None:
            return printable(message.strip().splitlines()[0] if message.strip() else type(error).__name__)
    if code is None:
        return printable((str(error).strip() or type(error).__name__).splitlines()[0])
    return _FRIENDLY.get(code, os.strerror(code))


_FRIENDLY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a file is in the way",
}
_OS_MESSAGES = {code: os.strerror(code) for code in _FRIENDLY}
