"""Issue 20, row 1: the one pixel rule set (`pixel_limits`) bounds every GIF frame at its own size, not only the
logical screen; ingestion's Pillow path applies it (the in-graph mirror is tested in tests/training/test_export.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from components.ingestion import image, pixel_limits
from tests.training.training_fixtures import gif_with_frame, zeros_png

LIMIT = 50_000_000


@pytest.mark.parametrize("side", [20000, 65535])
def test_a_frame_bigger_than_its_screen_is_counted_at_its_own_size(side):
    assert pixel_limits.gif_frame_sizes(gif_with_frame(side, side)) == [(side, side)]
    assert pixel_limits.refusal(gif_with_frame(side, side), 64, 64, LIMIT) == (
        f"64x64, a frame of {side}x{side} = {side * side} pixels, over the limit of {LIMIT}")


def test_every_frame_counts_and_small_gifs_pass():
    rng = np.random.default_rng(5)
    frames = [Image.fromarray(rng.integers(0, 256, (60, 60, 3), np.uint8)).convert("P") for _ in range(5)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    animated = buffer.getvalue()
    assert pixel_limits.gif_frame_sizes(animated) == [(60, 60)] * 5
    assert pixel_limits.refusal(animated, 60, 60, 60 * 60 * 3) == (
        "60x60 in 5 frames = 18000 pixels, over the limit of 10800")
    assert pixel_limits.refusal(animated, 60, 60, 60 * 60 * 5) is None
    assert pixel_limits.refusal(gif_with_frame(64, 64), 64, 64, LIMIT) is None


def test_other_formats_count_their_header_size():
    assert pixel_limits.refusal(zeros_png(30000, 30000), 30000, 30000, LIMIT) == (
        f"30000x30000 = 900000000 pixels, over the limit of {LIMIT}")


@pytest.mark.parametrize("data", [b"GIF89a", b"GIF89a\x40\x00\x40\x00\xff", gif_with_frame(9, 9)[:20]])
def test_a_truncated_gif_header_is_not_an_error_of_the_rules(data):
    """What is too short to say anything passes the rules, and the decoder refuses it as corrupt."""
    assert pixel_limits.refusal(data, 64, 64, LIMIT) is None


@pytest.mark.parametrize("side", [10000, 20000])  # Under and over Pillow's own bomb bound.
def test_ingestion_rejects_the_hidden_frame_before_decoding(side):
    with pytest.raises(image.Rejected) as rejected:
        image.transform(gif_with_frame(side, side), size=32, jpeg_quality=90, max_image_pixels=LIMIT)
    assert rejected.value.reason == image.TOO_MANY_PIXELS
    assert rejected.value.detail == f"64x64, a frame of {side}x{side} = {side * side} pixels, over the limit of {LIMIT}"
