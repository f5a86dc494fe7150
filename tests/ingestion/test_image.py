"""The pure Pillow transform: geometry, every colour mode, orientation, formats and the rejections."""

import io
import struct

import numpy as np
import pytest
from PIL import Image

from components.ingestion import image

SETTINGS = dict(size=32, jpeg_quality=95, max_image_pixels=1_000_000)


def decode(jpeg: bytes) -> Image.Image:
    result = Image.open(io.BytesIO(jpeg))
    assert result.format == "JPEG"
    return result


@pytest.mark.parametrize("size", [(64, 48), (48, 64), (32, 32), (20, 90), (101, 33)])
def test_output_is_square_rgb_of_the_target_size(size, photo_image, image_bytes):
    out = decode(image.transform(image_bytes(photo_image("geometry", size)), **SETTINGS))
    assert out.size == (32, 32) and out.mode == "RGB"


def test_shorter_side_scaled_then_centre_cropped():
    assert image.resized_size(300, 200, 100) == (150, 100)
    assert image.resized_size(201, 100, 50) == (100, 50)  # round(100.5) = 100, as Python and tf.round do
    assert image.resized_size(10, 20, 16) == (16, 32)  # small photos are upscaled
    assert image.crop_offsets(150, 100, 100) == (25, 0) and image.crop_offsets(100, 151, 100) == (0, 25)
    # A left half black, right half white 40x20 image keeps its middle: the crop starts at (40-20)//2 = 10.
    halves = Image.new("L", (40, 20), 0)
    halves.paste(255, (20, 0, 40, 20))
    crop = np.asarray(image.resize_and_crop(halves, 20))
    assert crop[:, :10].max() == 0 and crop[:, 10:].min() == 255


@pytest.mark.parametrize("size", [(500, 333), (320, 213), (171, 240), (240, 240), (97, 61)])
def test_one_call_resize_equals_resize_then_crop(size, photo_image):
    """The box resize is a speed-up only: within 1 level of the plain BILINEAR resize followed by the crop."""
    source = photo_image("box", size)
    new_size = image.resized_size(*size, 48)
    left, top = image.crop_offsets(*new_size, 48)
    plain = source.resize(new_size, Image.BILINEAR).crop((left, top, left + 48, top + 48))
    fast = image.resize_and_crop(source, 48)
    assert np.abs(np.asarray(plain, dtype=int) - np.asarray(fast, dtype=int)).max() <= 1


def test_no_chroma_subsampling_and_quality_applied(photo_image, image_bytes):
    jpeg = image.transform(image_bytes(photo_image("q", (64, 64))), **SETTINGS)
    decoded = decode(jpeg)
    assert decoded.layer[0][1:3] == decoded.layer[1][1:3] == (1, 1)  # 4:4:4: luma and chroma sampled alike
    low = image.transform(image_bytes(photo_image("q", (64, 64))), size=32, jpeg_quality=20,
                          max_image_pixels=1_000_000)
    assert len(low) < len(jpeg)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "1", "I;16", "I", "F", "RGBX"])
def test_every_mode_becomes_rgb(mode, photo_image, image_bytes):
    source = photo_image(f"mode-{mode}", (48, 40))
    if mode in ("I;16", "I", "F"):
        source = Image.fromarray((np.asarray(source.convert("L"), dtype=np.float64) * 257).astype(
            {"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]))
        assert source.mode == mode
    else:
        source = source.convert(mode)
    fmt = "TIFF" if mode in ("I;16", "I", "F", "CMYK", "RGBX") else "PNG"
    out = decode(image.transform(image_bytes(source, fmt), **SETTINGS))
    assert out.mode == "RGB" and out.size == (32, 32)


def test_sixteen_bit_scaled_not_clipped(image_bytes):
    gray = Image.fromarray(np.full((40, 40), 128 * 257, dtype=np.uint16))
    pixels = np.asarray(decode(image.transform(image_bytes(gray, "PNG"), **SETTINGS)))
    assert abs(float(pixels.mean()) - 128) < 3


def test_transparency_composited_on_white(image_bytes):
    clear = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    pixels = np.asarray(decode(image.transform(image_bytes(clear, "PNG"), **SETTINGS)))
    assert pixels.min() > 245


def test_exif_orientation_applied(image_bytes):
    """A 60x30 landscape image with a red left half, tagged 'rotate 90 CW to view' (orientation 6)."""
    source = Image.new("RGB", (60, 30), (0, 0, 255))
    source.paste((255, 0, 0), (0, 0, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = np.asarray(decode(image.transform(image_bytes(source, "JPEG", exif=exif.tobytes()), size=30,
                                            jpeg_quality=95, max_image_pixels=10_000)))
    # Viewed upright it is 30 wide x 60 tall with red on top; the centre crop is rows 15-45: red above blue.
    top, bottom = out[:10].mean(axis=(0, 1)), out[-10:].mean(axis=(0, 1))
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "WEBP", "AVIF", "TIFF"])
def test_any_pillow_format_whatever_the_extension(fmt, photo_image, image_bytes):
    """The bytes decide, not the name: the pipeline hands the transform bytes only."""
    out = decode(image.transform(image_bytes(photo_image(fmt, (50, 40)), fmt), **SETTINGS))
    assert out.size == (32, 32)


def test_draft_decoding_of_big_jpegs_stays_close_to_full_decoding(image_bytes):
    """Measured tolerance for the speed-up: under 2 grey levels on average at 1600x1200 -> 128."""
    big = image_bytes(_smooth_photo(1600, 1200), "JPEG", quality=95)
    settings = dict(size=128, jpeg_quality=95, max_image_pixels=10_000_000)
    fast = np.asarray(decode(image.transform(big, draft=True, **settings)), dtype=np.float64)
    exact = np.asarray(decode(image.transform(big, draft=False, **settings)), dtype=np.float64)
    assert np.abs(fast - exact).mean() < 2.0


def _smooth_photo(width: int, height: int) -> Image.Image:
    """Gradients plus low-frequency waves: photo-like content where draft scaling is meaningful."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([127 + 120 * np.sin(x / 37.0), 127 + 120 * np.cos(y / 23.0),
                       (x + y) * 255.0 / (width + height)], axis=-1)
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


@pytest.mark.parametrize("kind, reason", [
    ("empty", image.EMPTY_FILE),
    ("csv", image.NOT_AN_IMAGE),
    ("truncated", image.CORRUPT),
    ("big", image.TOO_MANY_PIXELS),
])
def test_bad_input_rejected_with_a_reason(kind, reason, photo_image, image_bytes):
    data = {
        "empty": lambda: b"",
        "csv": lambda: b"name,value\n1,2\n",
        "truncated": lambda: image_bytes(photo_image("trunc", (64, 64)))[:300],
        "big": lambda: image_bytes(photo_image("big", (1200, 1000)), "PNG"),
    }[kind]()
    with pytest.raises(image.Rejected) as raised:
        image.transform(data, **SETTINGS)
    assert raised.value.reason == reason


def test_pixel_limit_checked_before_decoding(image_bytes):
    """A BMP header claiming 30000x30000 pixels with no pixel data behind it: rejected for size, not corruption."""
    small = image_bytes(Image.new("RGB", (4, 4)), "BMP")
    header = small[:18] + struct.pack("<ii", 30000, 30000) + small[26:]  # BITMAPINFOHEADER width, height.
    with pytest.raises(image.Rejected) as raised:
        image.transform(header, **SETTINGS)
    assert raised.value.reason == image.TOO_MANY_PIXELS
