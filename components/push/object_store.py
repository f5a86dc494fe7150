"""A serving dir on Cloud Storage: version numbers claimed atomically, objects written only where none exists.

GCS has no folder rename, so a push cannot be staged aside and moved into place; and a listing can be stale by
the time a pusher acts on it. Two preconditions make concurrent pushes safe instead: a version number belongs to
the pusher that created its claim marker `<base>/.claims/<N>` with `if_generation_match=0` (create only if
absent), and every object of the version is written the same way, so no push ever replaces or deletes an object
another push wrote. TF Serving ignores `.claims/`, whose name is not a number.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Iterable

CLAIMS = ".claims"


class GcsServingDir:
    """`gs://bucket/prefix` as numbered versions, through the google-cloud-storage client."""

    def __init__(self, url: str, client=None):
        bucket, _, prefix = url[len("gs://"):].partition("/")
        self.url = url.rstrip("/")
        self.prefix = prefix.strip("/")
        self.bucket = (client or _client()).bucket(bucket)

    def versions(self) -> list[int]:
        """Integer folders as a listing shows them now (another pusher may add one a moment later)."""
        return sorted(int(name) for name in self._children() if name.isdigit())

    def claimed(self) -> list[int]:
        names = (blob.name.rsplit("/", 1)[-1] for blob in self.bucket.list_blobs(prefix=self._key(CLAIMS, "")))
        return sorted(int(name) for name in names if name.isdigit())

    def claim_next(self, listed: Iterable[int], attempts: int = 100) -> int:
        """The first number above every listed version and claim whose marker this call creates, and under
        which no object exists yet (a version written without a claim, by an older pusher, is skipped)."""
        from google.api_core.exceptions import PreconditionFailed

        version = max([0, *listed, *self.claimed()]) + 1
        for _ in range(attempts):
            try:
                self.bucket.blob(self._key(CLAIMS, str(version))).upload_from_string(
                    json.dumps(_claimant()), content_type="application/json", if_generation_match=0)
            except PreconditionFailed:  # Another pusher claimed it first.
                version += 1
                continue
            if not self._has_objects(str(version)):
                return version
            version += 1
        raise RuntimeError(f"could not claim a new version number under {self.url} after {attempts} attempts")

    def write_new(self, relative: str, source_path: str) -> None:
        """Upload one file of a version; fails rather than replace an object that is already there."""
        from tfx.dsl.io import fileio

        size = fileio.stat(source_path).length  # Known size: small files go in one request, big ones resumably.
        with fileio.open(source_path, "rb") as source:
            self.bucket.blob(self._key(relative)).upload_from_file(source, size=size, if_generation_match=0)

    def _children(self) -> set[str]:
        iterator = self.bucket.list_blobs(prefix=self._key(""), delimiter="/")
        names = {blob.name[len(self._key("")):] for blob in iterator}
        return names | {p[len(self._key("")):].rstrip("/") for p in iterator.prefixes}

    def _has_objects(self, folder: str) -> bool:
        return any(True for _ in self.bucket.list_blobs(prefix=self._key(folder, ""), max_results=1))

    def _key(self, *parts: str) -> str:
        """The object name of `<base>/<parts...>`; a trailing "" part makes it a folder prefix."""
        return "/".join([self.prefix, *parts] if self.prefix else parts)


def _client():
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(credentials=AnonymousCredentials(), project="emulator")
    return storage.Client()


def _claimant() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "claimed_at": time.time()}
