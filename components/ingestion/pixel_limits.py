"""The pixel bound, one rule set for every decoder here: ingestion's Pillow `image._open`, `predict`'s host read
and the exported model's in-graph decoder (`components/training/photo_input.py`, which mirrors these rules in
TensorFlow ops). Pure Python on the encoded bytes, applied before a pixel is decoded.

A GIF's header can lie: its logical screen gives the canvas, but giflib (under TensorFlow's decoder) allocates
every frame at the size its own image descriptor gives, and reads every frame. So a GIF counts as the larger of
its screen times its frames and the sum of its frames' own sizes (Pillow, like TF Serving, bounds each frame).
"""

from __future__ import annotations

GIF_SIGNATURE = b"GIF8"
IMAGE_DESCRIPTOR = 0x2C  # Then left, top, width, height (uint16 little-endian) and flags; the LZW code size.
EXTENSION = 0x21  # Then a label byte.
SCREEN_FLAGS_OFFSET = 10  # In the logical screen descriptor, after "GIF89a" and width, height.
SCREEN_END = 13


def color_table_bytes(flags: int) -> int:
    """A global or local colour table's size from its descriptor's flags: 3 x 2^(n+1) bytes when present."""
    return 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0


def gif_frame_sizes(data: bytes) -> list[tuple[int, int]]:
    """(width, height) of each image descriptor, in file order, as giflib reads them: records follow each other
    (a frame, an extension, each followed by length-prefixed sub-blocks up to a zero length) until the trailer or
    a byte that starts no record, where giflib stops too."""
    frames, position = [], SCREEN_END + color_table_bytes(data[SCREEN_FLAGS_OFFSET])
    while position < len(data):
        record = data[position]
        if record == IMAGE_DESCRIPTOR:
            descriptor = data[position + 5:position + 10].ljust(5, b"\x00")
            frames.append((descriptor[0] | descriptor[1] << 8, descriptor[2] | descriptor[3] << 8))
            position += 11 + color_table_bytes(descriptor[4])  # The descriptor, its table, the LZW code size.
        elif record == EXTENSION:
            position += 2
        else:
            break
        while position < len(data) and data[position]:
            position += data[position] + 1
        position += 1
    return frames


def refusal(data: bytes, width: int, height: int, max_pixels: int) -> str | None:
    """Why a photo whose header gives width x height is refused (what follows "photo refused: "), or None.
    For a GIF, its logical screen and every frame's own size count instead."""
    frames: list[tuple[int, int]] = []
    if data[:4] == GIF_SIGNATURE and len(data) > SCREEN_FLAGS_OFFSET:
        width, height = data[6] | data[7] << 8, data[8] | data[9] << 8
        frames = gif_frame_sizes(data)
    largest = max(frames, key=lambda size: size[0] * size[1], default=(0, 0))
    pixels = max(width * height * max(1, len(frames)), sum(w * h for w, h in frames))
    if pixels <= max_pixels:
        return None
    return describe(width, height, len(frames), largest, pixels, max_pixels)


def describe(width: int, height: int, frames: int, largest: tuple[int, int], pixels: int, max_pixels: int) -> str:
    """The refusal's words, which the in-graph decoder writes the same way."""
    in_frames = f" in {frames} frames" if frames > 1 else ""
    frame = f", a frame of {largest[0]}x{largest[1]}" if largest[0] * largest[1] > width * height else ""
    return f"{width}x{height}{in_frames}{frame} = {pixels} pixels, over the limit of {max_pixels}"
