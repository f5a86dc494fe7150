"""Bounded reading of listed files through Beam's file systems (local or gs://): a photo over max_file_bytes,
a FIFO or an unreadable file becomes an `image.Rejected`, never a hang, an exception or a full memory.
"""

from __future__ import annotations

import os
import stat

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from components import paths
from components.ingestion import image, sources


def read_file(path: str, max_bytes: int = -1) -> bytes:
    """Whole file (at most max_bytes + 1 bytes of it) through Beam's file systems (local, gs://), never
    decompressed by extension."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read(max_bytes + 1 if max_bytes >= 0 else -1)


def photo_stamp(path: str) -> str | None:
    """What the file system says of a photo without reading it: size and modification time (locally also the
    inode change time, which only the kernel sets: `touch -r` or `cp -p` can put an mtime back, not a ctime); on
    GCS an object's update time changes with every rewrite. Taken before the photo is read, so a change while it
    is read shows in the next run's stamp. None when the file cannot be looked at (it is rejected when read)."""
    try:
        if sources.is_remote(path):
            found = FileSystems.match([paths.literal(path)])[0].metadata_list[0]
            return f"{found.size_in_bytes}:{found.last_updated_in_seconds!r}"
        status = os.stat(path)
        return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}"
    except Exception:  # OSError, BeamIOError, IndexError (gone from the bucket): read_photo says why.
        return None


def read_photo(path: str, max_bytes: int) -> bytes:
    """The photo's bytes; image.Rejected when it cannot be read, is no regular file, or is over max_bytes.

    A remote read stops one byte past the limit, so an oversized file costs no more memory than an allowed one.
    """
    try:
        data = read_file(path, max_bytes) if sources.is_remote(path) else _read_local_file(path, max_bytes)
    except image.Rejected:
        raise
    except Exception as error:  # PermissionError, FileNotFoundError, BeamIOError, ...
        raise image.Rejected(image.UNREADABLE, f"{type(error).__name__}: {error}") from None
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _read_local_file(path: str, max_bytes: int) -> bytes:
    """Checked by its status first: opening a FIFO or device could block forever, and a file known to be
    too large is never read. (A bounded read(max_bytes + 1) would allocate max_bytes for every photo.)"""
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise OSError("not a regular file (reading a FIFO or device could block forever)")
    if status.st_size > max_bytes:
        raise _too_large(max_bytes)
    with open(path, "rb") as handle:
        return handle.read()


def _too_large(max_bytes: int) -> image.Rejected:
    return image.Rejected(image.FILE_TOO_LARGE, f"more than max_file_bytes={max_bytes} bytes")


def path_bytes(path: str) -> bytes:
    """A listed path as bytes: a non-UTF-8 file name (decoded with surrogate escapes) keeps its own bytes, which
    Beam's string coder would refuse."""
    return path.encode("utf-8", "surrogateescape")
