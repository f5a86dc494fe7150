"""The in-graph photo transform is ingestion's: shorter side to the size (antialiased bilinear), centre crop."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from training_fixtures import ingest_like

from components.training.export import photo_to_input


@pytest.mark.parametrize("width, height, size", [(70, 41, 32), (37, 64, 32), (20, 30, 32), (500, 375, 192),
                                                 (192, 192, 192)])
@pytest.mark.parametrize("encoding", ["PNG", "BMP", "GIF"])
def test_in_graph_transform_matches_pillow(width, height, size, encoding):
    rng = np.random.default_rng(width * height)
    blocks = rng.integers(0, 256, size=(height // 4 + 1, width // 4 + 1, 3)).astype(np.uint8)
    photo = Image.fromarray(np.kron(blocks, np.ones((4, 4, 1), np.uint8))[:height, :width])
    if encoding == "GIF":
        photo = photo.convert("P").convert("RGB")  # what a GIF can hold, so both sides see the same pixels
    buffer = io.BytesIO()
    photo.save(buffer, format=encoding)
    expected = np.asarray(ingest_like(photo, size), np.float32) / 255
    actual = photo_to_input(tf.constant(buffer.getvalue()), size).numpy()
    assert actual.shape == (size, size, 3)
    assert np.abs(actual - expected).max() <= 1.01 / 255  # Pillow rounds to whole grey levels, the graph doesn't
