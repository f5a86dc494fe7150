"""Session fixtures of the Pusher tests: the warmup photos and two good tiny models (see push_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.push.push_fixtures import SIZE, export_tiny


@pytest.fixture(scope="session")
def warmup_photos(photo_image, image_bytes) -> list[bytes]:
    return [image_bytes(photo_image(f"warmup/{i}", (SIZE, SIZE), tint=i)) for i in range(6)]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, warmup_photos) -> dict[str, str]:
    """Two distinct good models, exported once per session."""
    root = tmp_path_factory.mktemp("tiny_models")
    return {name: export_tiny(str(root / name), seed, warmup_photos) for name, seed in (("m", 1), ("m2", 2))}
