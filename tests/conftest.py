"""Shared fixtures: small generated photo folders in the `<root>/<class>/<photo>` layout ingestion reads.

Photos are seeded noise plus a per-class tint, so every file has distinct bytes (no accidental duplicates)
and a classifier could tell classes apart. Reuse `make_photo` / `make_photo_folder` from any test folder.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest
from PIL import Image

TINY_CLASSES = ("daisy", "roses")


def photo_image(seed: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", tint: int = 0) -> Image.Image:
    """A width x height image of seeded noise in `mode`; `tint` (0-2) lifts one RGB channel."""
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little"))
    pixels = rng.integers(0, 120, size=(size[1], size[0], 3))
    pixels[..., tint % 3] += 120
    return Image.fromarray(pixels.astype(np.uint8), "RGB").convert(mode)


def image_bytes(image: Image.Image, fmt: str = "JPEG", **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_args)
    return buffer.getvalue()


def make_photo(path: Path, size: tuple[int, int] = (64, 48), fmt: str = "JPEG", mode: str = "RGB",
               tint: int = 0) -> Path:
    """Write one photo (any Pillow format, whatever the extension of `path`); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(photo_image(str(path), size, mode, tint), fmt))
    return path


def make_photo_folder(root: Path, classes: Sequence[str] = TINY_CLASSES, per_class: int = 4,
                      size: tuple[int, int] = (64, 48), fmt: str = "JPEG", ext: str = ".jpg") -> list[Path]:
    """`root/<class>/photo_<i><ext>` for each class; photos of class k are tinted on channel k % 3."""
    return [make_photo(Path(root) / label / f"photo_{i:03d}{ext}", size, fmt, tint=k)
            for k, label in enumerate(classes) for i in range(per_class)]


@pytest.fixture
def photo_folder(tmp_path) -> Path:
    """A fresh folder of 2 classes x 4 small JPEGs."""
    root = tmp_path / "photos"
    make_photo_folder(root)
    return root
