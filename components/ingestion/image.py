"""The photo -> record-image transform: pure Pillow, no Beam or TensorFlow, so it is cheap to test.

The Trainer's in-graph predict path mirrors these steps; change them together.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from components.ingestion import pixel_limits

# Rejection reasons: a small fixed vocabulary so `rejected_by_reason` groups usefully.
EMPTY_FILE = "empty file"
NOT_AN_IMAGE = "not an image"
CORRUPT = "corrupt or truncated image"
TOO_MANY_PIXELS = "too many pixels"
UNSUPPORTED = "unsupported image mode"
UNREADABLE = "unreadable file"  # This and FILE_TOO_LARGE are set by the Beam job's read, before any decode.
FILE_TOO_LARGE = "file too large"
UNEXPECTED = "unexpected error"  # Set by the Beam job around the transform, for what no rule here foresaw.
REASONS = (EMPTY_FILE, NOT_AN_IMAGE, CORRUPT, TOO_MANY_PIXELS, UNSUPPORTED, UNREADABLE, FILE_TOO_LARGE,
           UNEXPECTED)

BACKGROUND = (255, 255, 255)  # Transparent pixels are composited on white, as a viewer shows them.
DRAFT_MARGIN = 2  # JPEG DCT-domain downscaling keeps at least 2x the target, then BILINEAR does the rest.
_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")

# We enforce our own `max_image_pixels` from the header; Pillow's warning below its hard limit is noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class Rejected(Exception):
    """A photo that cannot become a record; `reason` is one of REASONS, `detail` is for the manifest."""

    def __init__(self, reason: str, detail: str = ""):
        if reason not in REASONS:  # A new reason belongs in the vocabulary, or the summary's grouping splinters.
            raise ValueError(f"rejection reason {reason!r} is not one of image.REASONS")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def transform(data: bytes, *, size: int, jpeg_quality: int, max_image_pixels: int,
              draft: bool = True) -> bytes:
    """Decode any Pillow format, orient, make RGB, resize the shorter side to `size`, centre-crop, JPEG-encode.

    `draft` lets big JPEGs decode at a reduced DCT scale (still >= DRAFT_MARGIN x the target): several times
    faster on camera-sized photos, within about one grey level of the full decode (see the tests).
    Raises Rejected for anything that is not a usable image.
    """
    if not data:
        raise Rejected(EMPTY_FILE)
    image = _open(data, max_image_pixels)
    try:
        if draft and image.format == "JPEG":
            image.draft(image.mode, (DRAFT_MARGIN * size, DRAFT_MARGIN * size))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, struct.error... on bad data.
        raise Rejected(CORRUPT, _describe(error)) from None
    return encode_jpeg(resize_and_crop(to_rgb(image), size), jpeg_quality)


def _open(data: bytes, max_image_pixels: int) -> Image.Image:
    """Read only the header, and refuse decompression bombs (`pixel_limits`) before any pixel is decoded."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:  # Pillow's bound fired first; a GIF's frames are said our way.
        raise Rejected(TOO_MANY_PIXELS, pixel_limits.refusal(data, 0, 0, max_image_pixels) or str(error)) from None
    except Image.UnidentifiedImageError:
        raise Rejected(NOT_AN_IMAGE, f"Pillow cannot identify {len(data)} bytes as an image") from None
    except Exception as error:
        raise Rejected(CORRUPT, _describe(error)) from None
    width, height = image.size
    too_many = pixel_limits.refusal(data, width, height, max_image_pixels)
    if too_many:
        raise Rejected(TOO_MANY_PIXELS, too_many)
    if width < 1 or height < 1:
        raise Rejected(CORRUPT, f"image size {width}x{height}")
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Any mode to 8-bit RGB: 16-bit and float scaled down, alpha composited on white, CMYK/L/P/1 converted."""
    if image.mode in _HIGH_BIT_MODES:
        image = _to_8bit_gray(image)
    if image.mode in _ALPHA_MODES or (image.mode in ("P", "L", "RGB") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, BACKGROUND)
        image.paste(rgba, mask=rgba.getchannel("A"))
    if image.mode != "RGB":
        try:
            image = image.convert("RGB")
        except ValueError as error:
            raise Rejected(UNSUPPORTED, f"mode {image.mode}: {error}") from None
    return image


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    """16-bit (and 32-bit int/float holding 16-bit data) grayscale to 8 bits by scaling 0..65535 to 0..255."""
    pixels = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16") or pixels.max(initial=0) > 255:
        pixels = pixels / 257.0
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "L")


def resized_size(width: int, height: int, size: int) -> tuple[int, int]:
    """Scale so the shorter side is `size`, keeping the aspect ratio (never below `size`)."""
    scale = size / min(width, height)
    return max(size, round(width * scale)), max(size, round(height * scale))


def crop_offsets(width: int, height: int, size: int) -> tuple[int, int]:
    """(left, top) of the central size x size square; the extra pixel of an odd margin goes right/bottom."""
    return (width - size) // 2, (height - size) // 2


def resize_and_crop(image: Image.Image, size: int) -> Image.Image:
    """BILINEAR resize of the shorter side to `size`, then the centre crop, in one Pillow call.

    Resampling only the source box the crop keeps gives the pixels of resize-then-crop (same scale, same
    filter footprint; at most 1 level of rounding apart) for a third less work on landscape photos.
    """
    width, height = image.size
    new_width, new_height = resized_size(width, height, size)
    left, top = crop_offsets(new_width, new_height, size)
    scale_x, scale_y = width / new_width, height / new_height
    box = (left * scale_x, top * scale_y, (left + size) * scale_x, (top + size) * scale_y)
    return image.resize((size, size), Image.BILINEAR, box=box)


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    """JPEG without chroma subsampling (4:4:4), as the codelab's `chroma_downsampling=False`."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, subsampling=0)
    return buffer.getvalue()


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
