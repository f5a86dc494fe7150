"""The in-graph photo transform is ingestion's (draft-scaled JPEG decode, shorter side to the size with an
antialiased bilinear filter, centre crop), and it refuses photos that would need unbounded memory."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components.ingestion import pixel_limits
from components.ingestion.image import DRAFT_MARGIN, resize_and_crop
from components.training.photo_input import DEFAULT_MAX_PIXELS, MAX_ASPECT_RATIO, photo_to_input, readable_error
from tests.training.training_fixtures import gif_with_frame, ingest_like, zeros_png


def _blocks(width: int, height: int, block: int = 4) -> Image.Image:
    rng = np.random.default_rng(width * height)
    blocks = rng.integers(0, 256, size=(height // block + 1, width // block + 1, 3)).astype(np.uint8)
    return Image.fromarray(np.kron(blocks, np.ones((block, block, 1), np.uint8))[:height, :width])


def _encoded(photo: Image.Image, encoding: str, **save_args) -> bytes:
    buffer = io.BytesIO()
    photo.save(buffer, format=encoding, **save_args)
    return buffer.getvalue()


def _refusal(encoded: bytes, size: int = 32, **bounds) -> str:
    with pytest.raises(tf.errors.InvalidArgumentError) as refused:
        photo_to_input(tf.constant(encoded), size, **bounds)
    return readable_error(refused.value.message)


@pytest.mark.parametrize("width, height, size", [(70, 41, 32), (37, 64, 32), (20, 30, 32), (500, 375, 192),
                                                 (192, 192, 192)])
@pytest.mark.parametrize("encoding", ["PNG", "BMP", "GIF"])
def test_in_graph_transform_matches_pillow(width, height, size, encoding):
    photo = _blocks(width, height)
    if encoding == "GIF":
        photo = photo.convert("P").convert("RGB")  # what a GIF can hold, so both sides see the same pixels
    expected = np.asarray(ingest_like(photo, size), np.float32) / 255
    actual = photo_to_input(tf.constant(_encoded(photo, encoding)), size).numpy()
    assert actual.shape == (size, size, 3)
    assert np.abs(actual - expected).max() <= 1.01 / 255  # Pillow rounds to whole grey levels, the graph doesn't


@pytest.mark.parametrize("width, height, size", [(1600, 1200, 192), (3000, 2000, 64), (500, 375, 192), (41, 70, 32)])
def test_jpeg_decodes_at_ingestions_draft_scale_and_matches_it(width, height, size):
    """Only the crop window is decoded, at the DCT scale Pillow's draft picks: the pixels ingestion sees."""
    encoded = _encoded(_blocks(width, height, block=8), "JPEG", quality=95)
    with Image.open(io.BytesIO(encoded)) as photo:
        photo.draft("RGB", (DRAFT_MARGIN * size, DRAFT_MARGIN * size))
        expected = np.asarray(resize_and_crop(photo.convert("RGB"), size), np.float32) / 255
    actual = photo_to_input(tf.constant(encoded), size).numpy()
    assert np.abs(actual - expected).max() <= 1.01 / 255


def test_too_many_pixels_are_refused_from_the_header():
    assert _refusal(zeros_png(30000, 30000)) == (
        "photo refused: 30000x30000 = 900000000 pixels, over the limit of 50000000")
    assert "over the limit of 4000" in _refusal(_encoded(_blocks(80, 60), "JPEG"), max_pixels=4000)
    assert "over the limit of 4000" in _refusal(_encoded(_blocks(80, 60), "BMP"), max_pixels=4000)


def test_strips_are_refused_whatever_their_orientation():
    for width, height in ((100000, 1), (1, 100000)):
        assert _refusal(zeros_png(width, height)) == (
            f"photo refused: {width}x{height} is more elongated than {MAX_ASPECT_RATIO}:1")
    photo_to_input(tf.constant(zeros_png(MAX_ASPECT_RATIO * 2, 2)), 32)  # at the limit: answered


def test_every_frame_of_a_gif_counts():
    frames = [_blocks(60, 60 + i).crop((0, 0, 60, 60)).convert("P") for i in range(5)]  # distinct, or merged
    animated = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert _refusal(animated, max_pixels=60 * 60 * 3) == (
        "photo refused: 60x60 in 5 frames = 18000 pixels, over the limit of 10800")
    photo_to_input(tf.constant(animated), 32, max_pixels=60 * 60 * 20)


@pytest.mark.parametrize("side", [20000, 65535])
def test_a_gif_frame_bigger_than_its_screen_is_refused_as_pixel_limits_refuses_it(side):
    """Issue 20, row 1: the frame's own descriptor counts, in the graph's words and the host's."""
    hidden = gif_with_frame(side, side)
    assert _refusal(hidden) == f"photo refused: {pixel_limits.refusal(hidden, 64, 64, DEFAULT_MAX_PIXELS)}"
    assert _refusal(hidden) == (f"photo refused: 64x64, a frame of {side}x{side} = {side * side} pixels, "
                                f"over the limit of {DEFAULT_MAX_PIXELS}")
    assert photo_to_input(tf.constant(gif_with_frame(64, 64)), 32).shape == (32, 32, 3)


def test_gif_sub_blocks_are_followed_past_the_loops_window():
    """Frames after long runs of data (one-byte and full sub-blocks, more than a loop step's window) still count."""
    frames = [_blocks(120, 90 + i).crop((0, 0, 120, 90)).convert("P") for i in range(3)]
    animated = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert len(animated) > 3 * 4096
    assert _refusal(animated, max_pixels=120 * 90 * 2) == (
        f"photo refused: {pixel_limits.refusal(animated, 120, 90, 120 * 90 * 2)}")
    assert "in 3 frames" in _refusal(animated, max_pixels=120 * 90 * 2)


def test_what_is_not_a_photo_gets_a_sentence():
    assert _refusal(b"plain text") == "photo refused: not a JPEG, PNG, GIF or BMP photo"
    assert _refusal(b"") == "photo refused: not a JPEG, PNG, GIF or BMP photo"
    assert _refusal(b"\x89PNG\r\n\x1a\n") == "photo refused: the header gives no size (0x0): not a readable photo"
    truncated = _encoded(_blocks(64, 48), "JPEG")[:300]
    assert _refusal(truncated) == "Invalid JPEG data, size 300"
