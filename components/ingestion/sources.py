"""Finding the photos: list `<root>/**` through Beam's file systems (local or gs://) and sort every path
into a photo of a class or an ignored path with a reason. Also the fast reachability check of the root.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import os
import socket
from urllib.parse import urlparse

from apache_beam.io.filesystems import FileSystems

from components import paths
from components.errors import RunStopped, UserError, printable

# Photo formats Pillow decodes; other files are reported as ignored (a HEIC needs a plugin Pillow lacks).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".webp", ".avif", ".tif",
                              ".tiff"})
IGNORED_OUTSIDE_CLASS = "ignored: not inside a class folder"
IGNORED_NOT_CLASS = "ignored: not a configured class folder"
IGNORED_NESTED = "ignored: nested deeper than <class>/<file>"
IGNORED_EXTENSION = "ignored: no image extension"
IGNORED_LINK_OUT = "ignored: symbolic link to a folder outside the data root (not walked)"
REACH_TIMEOUT_S = 20.0
_GCS_HOST = ("storage.googleapis.com", 443)
_LOCAL_HINT = ("Point DATA_ROOT (make run DATA_ROOT=...) or --data-root at a local folder of <class>/<photo> "
               "files instead, e.g. data/sample_flowers.")


@dataclasses.dataclass(frozen=True)
class Listing:
    """What the root holds: `photos` as (path, class) pairs and `ignored` as {"path", "reason"} dicts."""

    photos: list[tuple[str, str]]
    ignored: list[dict[str, str]]

    def per_class(self, classes) -> dict[str, int]:
        counts = {name: 0 for name in classes}
        for _, label in self.photos:
            counts[label] += 1
        return counts


def is_remote(path: str) -> bool:
    return "://" in path


def normalize_root(data_root: str) -> str:
    """Local roots become absolute (so `source` paths are meaningful anywhere); no trailing slash."""
    return data_root.rstrip("/") if is_remote(data_root) else os.path.abspath(data_root)


def list_photos(data_root: str, classes) -> Listing:
    """Every file under the root, classified; deeper files and other folders are reported, not lost."""
    root = normalize_root(data_root)
    files, links_out = ([], []) if is_remote(root) else _local_files(root)
    photos, ignored = [], [{"path": path, "reason": IGNORED_LINK_OUT} for path in sorted(links_out)]
    for path in sorted(_remote_files(root) if is_remote(root) else files):
        reason = classify(path[len(root) + 1:].split("/"), classes)
        if reason is None:
            photos.append((path, path[len(root) + 1:].split("/")[0]))
        else:
            ignored.append({"path": path, "reason": reason})
    return Listing(photos, ignored)


def _remote_files(root: str) -> list[str]:
    return [m.path for m in _remote_metadata(root)]


def _remote_metadata(root: str):
    matched = FileSystems.match([FileSystems.join(paths.literal(root), "**")])[0].metadata_list
    return [m for m in matched if not m.path.endswith("/")]  # Not GCS folder markers.


def listing_fingerprint(data_root: str) -> str:
    """A digest of every file's relative path, size and mtime under the root, in sorted order: moving, renaming,
    swapping or replacing a photo changes it, where counts, total bytes and summed mtimes may not."""
    root = normalize_root(data_root)
    if is_remote(root):
        entries = [(m.path[len(root) + 1:], m.size_in_bytes, m.last_updated_in_seconds)
                   for m in _remote_metadata(root)]
    else:
        files, links_out = _local_files(root)
        entries = [(os.path.relpath(path, root), *_size_and_mtime(path)) for path in files + links_out]
    digest = hashlib.sha256()
    for relative, size, mtime in sorted(entries):
        digest.update(os.fsencode(relative) + f"\0{size}\0{mtime}\n".encode())
    return f"listing: {len(entries)} files, sha256 {digest.hexdigest()}"


def _size_and_mtime(path: str) -> tuple[int, int]:
    try:
        status = os.stat(path)
    except OSError:  # A broken link or a file that just vanished: listed, and rejected later with its reason.
        return -1, -1
    return status.st_size, status.st_mtime_ns


def _local_files(root: str) -> tuple[list[str], list[str]]:
    """Every non-folder entry, broken symlinks and hidden files included: Beam's local match drops both,
    and a dropped photo would vanish from the counts instead of being reported. Folder links within the root are
    followed once (a link back to an ancestor is not a loop); folder links out of it (a link to /usr would walk
    the whole system) are returned apart, unwalked, as the second list. A link to a file is a photo wherever it
    points (a folder merged from others with symlinks is a data root): reading it costs one bounded read."""
    def unreadable(error: OSError):
        raise UserError(f"cannot list {printable(str(error.filename))} under the data root: {error.strerror}")

    real_root = os.path.realpath(root)
    files, links_out, visited = [], [], set()
    for folder, subfolders, names in os.walk(root, onerror=unreadable, followlinks=True):
        visited.add(os.path.realpath(folder))
        kept = []
        for name in subfolders:
            path = os.path.join(folder, name)
            if _links_outside(path, real_root):
                links_out.append(path)
            elif os.path.realpath(path) not in visited:
                kept.append(name)
        subfolders[:] = kept
        files += (os.path.join(folder, name) for name in names)
    return files, links_out


def _links_outside(path: str, real_root: str) -> bool:
    """A symlink whose (existing) target lies outside the root; a broken link is left to be rejected as unreadable."""
    if not os.path.islink(path) or not os.path.exists(path):
        return False
    return os.path.commonpath([os.path.realpath(path), real_root]) != real_root


def classify(parts: list[str], classes) -> str | None:
    """None for `<class>/<photo.ext>`, else the ignore reason of a path split into its parts under the root."""
    if len(parts) < 2:
        return IGNORED_OUTSIDE_CLASS
    if parts[0] not in classes:
        return IGNORED_NOT_CLASS
    if len(parts) > 2:
        return IGNORED_NESTED
    if os.path.splitext(parts[1])[1].lower() not in IMAGE_EXTENSIONS:
        return IGNORED_EXTENSION
    return None


def check_data_root(data_root: str, classes) -> None:
    """Fail within seconds, with what to do, when the root is missing or unreachable or lacks class folders."""
    if is_remote(data_root):
        _check_remote_root(normalize_root(data_root), list(classes))
    else:
        _check_local_root(normalize_root(data_root), list(classes))


def _check_local_root(root: str, classes: list[str]) -> None:
    if not os.path.isdir(root):
        raise UserError(f"data root {printable(root)} is not a folder. {_LOCAL_HINT}")
    missing = [c for c in classes if not os.path.isdir(os.path.join(root, c))]
    if missing:
        raise UserError(f"data root {printable(root)} has no folder for class(es) {', '.join(missing)}; "
                        f"expected {printable(root)}/<class>/<photo> for each of {', '.join(classes)}.")


def _check_remote_root(root: str, classes: list[str]) -> None:
    if root.startswith("gs://"):
        _check_gcs_network()
        use_anonymous_gcs_if_needed()
    patterns = [f"{paths.literal(root)}/{paths.literal(c)}/*" for c in classes]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(FileSystems.match, patterns, [1] * len(patterns))
    pool.shutdown(wait=False)  # A hung listing must not hold the process; it runs in a daemon-like thread.
    try:
        results = future.result(timeout=REACH_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        raise UserError(f"cannot reach data root {printable(root)}: no answer within {REACH_TIMEOUT_S:.0f} s "
                        f"(network or credentials?). {_LOCAL_HINT}") from None
    except Exception as error:
        raise UserError(f"cannot read data root {printable(root)}: {_first_line(error)}. {_LOCAL_HINT}") from None
    missing = [c for c, result in zip(classes, results) if not result.metadata_list]
    if len(missing) == len(classes):
        raise UserError(f"data root {printable(root)} is missing or empty: no {printable(root)}/<class>/<photo> "
                        f"for any of {', '.join(classes)}. {_LOCAL_HINT}")
    if missing:
        raise RunStopped(f"data root {printable(root)} has no photo for class(es) {', '.join(missing)}.")


def _check_gcs_network() -> None:
    """A TCP connect to GCS (or the emulator) fails in seconds where client retries take minutes."""
    host, port = _GCS_HOST
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        parsed = urlparse(emulator if "://" in emulator else f"http://{emulator}")
        host, port = parsed.hostname, parsed.port or 80
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as error:
        raise UserError(f"cannot reach Google Cloud Storage at {host}:{port} ({error}): no network? "
                        f"{_LOCAL_HINT}") from None


def use_anonymous_gcs_if_needed() -> None:
    """Skip Beam's ~25 s of credential retries when there are none to find (emulator, public bucket).

    Beam looks for Application Default Credentials with four backed-off retries before it falls back to
    anonymous access; one quick lookup here decides, and primes Beam's per-process cache with that outcome.
    """
    from apache_beam.internal.gcp import auth

    cache = getattr(auth, "_Credentials", None)
    if cache is None or cache._credentials_init:
        return
    if os.environ.get("STORAGE_EMULATOR_HOST") or not _has_default_credentials():
        with cache._credentials_lock:
            cache._credentials, cache._credentials_init = None, True


def _has_default_credentials() -> bool:
    import google.auth

    try:
        google.auth.default()
        return True
    except Exception:  # DefaultCredentialsError, or a transport error probing the metadata server.
        return False


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
