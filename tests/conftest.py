"""Shared fixtures: small generated photos and folders in the `<root>/<class>/<photo>` layout ingestion reads.

Photos are noise seeded by their `<class>/<name>` plus a per-class tint: the bytes are the same on every run
(so are the content-hash splits), distinct between names (no accidental duplicates), and a classifier could
tell classes apart. The helpers are handed out as session fixtures (`make_photo_folder`,
`make_photo`, `photo_image`, `image_bytes`). Example: `def test_x(tmp_path, make_photo_folder):
make_photo_folder(tmp_path, ["a", "b"], 3)`. Helpers of one folder are modules of the `tests` package
(`from tests.training.training_fixtures import CLASSES`).

Tiers: a test marked `e2e` (pytest.ini) runs LocalDagRunner pipelines, trains for epochs, serves a model in a fresh
process or compiles whole models with XLA; `make test-fast` leaves those out (`-m "not e2e"`), `make test` runs
everything. Every test that uses one of E2E_FIXTURES is marked here; the others are marked where they are defined.
"""

from __future__ import annotations

import hashlib
import io
import socket
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest
from PIL import Image

from tests.evaluation import gate_scenario

TINY_CLASSES = ("daisy", "roses")
# Session fixtures that run the real pipeline or train for several epochs: every test using one is end-to-end.
E2E_FIXTURES = frozenset({"scenario", "trained"})


@pytest.hookimpl(tryfirst=True)  # Before `-m` deselects by marker.
def pytest_collection_modifyitems(items):
    for item in items:
        if E2E_FIXTURES.intersection(item.fixturenames):
            item.add_marker(pytest.mark.e2e)


def _photo_image(seed: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", tint: int = 0) -> Image.Image:
    """A width x height image of seeded noise in `mode`; `tint` (0-2) lifts one RGB channel."""
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little"))
    pixels = rng.integers(0, 120, size=(size[1], size[0], 3))
    pixels[..., tint % 3] += 120
    return Image.fromarray(pixels.astype(np.uint8), "RGB").convert(mode)


def _image_bytes(image: Image.Image, fmt: str = "JPEG", **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_args)
    return buffer.getvalue()


def _make_photo(path: Path, size: tuple[int, int] = (64, 48), fmt: str = "JPEG", mode: str = "RGB",
               tint: int = 0) -> Path:
    """Write one photo (any Pillow format, whatever the extension of `path`); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = "/".join(path.parts[-2:])  # <class>/<name>: the same bytes on every run, wherever tmp_path is.
    path.write_bytes(_image_bytes(_photo_image(seed, size, mode, tint), fmt))
    return path


def _make_photo_folder(root: Path, classes: Sequence[str] = TINY_CLASSES, per_class: int = 4,
                      size: tuple[int, int] = (64, 48), fmt: str = "JPEG", ext: str = ".jpg") -> list[Path]:
    """`root/<class>/photo_<i><ext>` for each class; photos of class k are tinted on channel k % 3."""
    return [_make_photo(Path(root) / label / f"photo_{i:03d}{ext}", size, fmt, tint=k)
            for k, label in enumerate(classes) for i in range(per_class)]


@pytest.fixture(scope="session")
def photo_image():
    """`photo_image(seed, size=(64, 48), mode="RGB", tint=0) -> PIL.Image`."""
    return _photo_image


@pytest.fixture(scope="session")
def image_bytes():
    """`image_bytes(image, fmt="JPEG", **save_args) -> bytes`."""
    return _image_bytes


@pytest.fixture(scope="session")
def make_photo():
    """`make_photo(path, size=(64, 48), fmt="JPEG", mode="RGB", tint=0) -> path`."""
    return _make_photo


@pytest.fixture(scope="session")
def make_photo_folder():
    """`make_photo_folder(root, classes=TINY_CLASSES, per_class=4, size=(64, 48), fmt="JPEG", ext=".jpg")`."""
    return _make_photo_folder


@pytest.fixture
def photo_folder(tmp_path) -> Path:
    """A fresh folder of 2 classes x 4 small JPEGs."""
    root = tmp_path / "photos"
    _make_photo_folder(root)
    return root


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> dict:
    """The gate scenario (five real pipeline runs, see tests/evaluation/gate_scenario.py), once per session, for
    tests/evaluation and tests/report."""
    return gate_scenario.load_or_run_scenario(str(tmp_path_factory.getbasetemp() / "gate_scenario"))


@pytest.fixture
def gcs_emulator(monkeypatch):
    """An in-memory GCS emulator on 127.0.0.1 with one bucket (yielded, as a google-cloud-storage Bucket);
    STORAGE_EMULATOR_HOST points the clients (Beam's, google-cloud-storage) at it for this test only.
    Uploads honour `ifGenerationMatch` as GCS does (the emulator itself ignores it)."""
    from gcp_storage_emulator.handlers import objects
    from gcp_storage_emulator.server import create_server
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    for upload in ("_media_upload", "_multipart_upload", "_create_resumable_upload"):
        monkeypatch.setattr(objects, upload, _honouring_if_generation_match(getattr(objects, upload)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="flowers-test")
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    try:
        yield storage.Client(credentials=AnonymousCredentials(), project="test").bucket("flowers-test")
    finally:
        server.stop()


def _honouring_if_generation_match(upload):
    """GCS's create-or-replace precondition on an emulator upload handler: 412 unless the object's generation is
    the given one ("0": the object must not exist). The emulator serves one request at a time, so the check and
    the write are atomic, as on GCS."""
    from http import HTTPStatus

    from gcp_storage_emulator.exceptions import NotFound

    def checked(request, response, store):
        wanted = request.query.get("ifGenerationMatch", [None])[0]
        if wanted is not None and "upload_id" not in request.query:  # Checked when an upload starts.
            meta = request.data.get("meta", request.data) if isinstance(request.data, dict) else {}
            name = request.query["name"][0] if "name" in request.query else meta.get("name")
            try:
                current = str(store.get_file_obj(request.params["bucket_name"], name)["generation"])
            except NotFound:
                current = "0"
            if current != wanted:
                response.status = HTTPStatus.PRECONDITION_FAILED
                response.json({"error": {"code": 412, "message": "At least one of the pre-conditions you specified "
                                         "did not hold.", "errors": [{"reason": "conditionNotMet"}]}})
                return None
        return upload(request, response, store)

    return checked
