"""Encoded photo -> model input, in the graph, with memory bounded before a pixel is decoded.

Mirrors ingestion's Pillow transform (`components/ingestion/image.py`): big JPEGs decode at a reduced DCT scale
as Pillow's `draft` does, the shorter side is resized to the model's size with an antialiased bilinear filter
and only the central square is kept. Here the square's box is computed in source coordinates first and only the
window under that box (plus the filter's reach) is resampled, so no full-size intermediate exists; JPEGs decode
only that window. Before decoding, the dimensions are read from the header (`extract_jpeg_shape` for JPEG; fixed
offsets for PNG, GIF and BMP; every GIF frame's own descriptor, as `components/ingestion/pixel_limits.py` reads
them), and a photo over `max_pixels` or more elongated than MAX_ASPECT_RATIO is refused
with an InvalidArgumentError whose message says why (see `REFUSAL_MARK`), so a server answers an error instead
of allocating gigabytes for a few hundred bytes of PNG.

`tf.image.crop_and_resize` samples points without antialiasing (many grey levels away from Pillow on a 2x
downscale); `ScaleAndTranslate`, the op under `tf.image.resize(antialias=True)`, takes the box as a scale and a
translation and matches Pillow's box resize within one grey level.
"""

from __future__ import annotations

import re

import tensorflow as tf

from components.ingestion import pixel_limits
from components.ingestion.image import DRAFT_MARGIN

DEFAULT_MAX_PIXELS = 50_000_000  # data.max_image_pixels' default; the Trainer bakes the configured value in.
MAX_ASPECT_RATIO = 50  # Longer side over shorter side; panoramas stay well below, a 1x100000 strip does not.
REFUSAL_MARK = "photo refused: "
FORMATS = ("JPEG", "PNG", "GIF", "BMP")  # Index = the branch of the format switches below.
_JPEG_RATIOS = (1, 2, 4, 8)  # libjpeg's DCT scales, which decode_jpeg takes as a static attribute.
_HEADER_BYTES = 32
_WINDOW = 1024  # Bytes of GIF sub-blocks followed per loop step.


def photo_to_input(encoded: tf.Tensor, image_size: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> tf.Tensor:
    """[image_size, image_size, 3] float32 in [0, 1] from one encoded photo (a scalar string)."""
    kind = _format_index(encoded)
    with tf.control_dependencies([_refuse_unless(kind >= 0, "not a JPEG, PNG, GIF or BMP photo")]):
        kind = tf.identity(kind)
    height, width = _dimensions(encoded, kind)
    with tf.control_dependencies(_bounds_checks(encoded, kind, height, width, max_pixels)):
        kind = tf.identity(kind)
    branches = [lambda: _jpeg_window(encoded, height, width, image_size)] + [
        lambda: _decoded_window(encoded, image_size)] * 3
    window, box = tf.switch_case(kind, branches)
    return tf.clip_by_value(_resample(window, box, image_size), 0.0, 255.0) / 255.0


def _format_index(encoded: tf.Tensor) -> tf.Tensor:
    """0 JPEG, 1 PNG, 2 GIF, 3 BMP (indexes into FORMATS), -1 anything else."""
    head = tf.strings.substr(encoded, 0, 8)
    checks = [tf.io.is_jpeg(encoded), tf.equal(head, b"\x89PNG\r\n\x1a\n"),
              tf.equal(tf.strings.substr(head, 0, 4), b"GIF8"), tf.equal(tf.strings.substr(head, 0, 2), b"BM")]
    return tf.case([(check, lambda i=i: tf.constant(i)) for i, check in enumerate(checks)],
                   default=lambda: tf.constant(-1), exclusive=False)


def _dimensions(encoded: tf.Tensor, kind: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(height, width) as int64 from the header alone; a short or odd header gives zeros (refused later)."""
    header = tf.strings.substr(tf.strings.join([tf.strings.substr(encoded, 0, _HEADER_BYTES),
                                                b"\x00" * _HEADER_BYTES]), 0, _HEADER_BYTES)

    def fields(offset: int, dtype: tf.DType, little_endian: bool) -> tf.Tensor:  # -> [width, height]
        size = 2 * dtype.size
        raw = tf.io.decode_raw(tf.strings.substr(header, offset, size), dtype, little_endian=little_endian)
        return tf.abs(tf.cast(raw, tf.int64))  # BMP stores top-down rows as a negative height.

    height_width = tf.switch_case(kind, [
        lambda: tf.cast(tf.image.extract_jpeg_shape(encoded)[:2], tf.int64),
        lambda: tf.reverse(fields(16, tf.int32, little_endian=False), [0]),  # IHDR width, height (big-endian)
        lambda: tf.reverse(fields(6, tf.uint16, little_endian=True), [0]),  # logical screen width, height
        lambda: tf.reverse(fields(18, tf.int32, little_endian=True), [0]),  # BITMAPINFOHEADER width, height
    ])
    return height_width[0], height_width[1]


def _bounds_checks(encoded, kind, height, width, max_pixels: int) -> list[tf.Operation]:
    """Refusals of no pixels, too many pixels (`pixel_limits`' rules: a GIF's every frame counts, at its own
    size) and strips."""
    frames, frame_pixels, largest = tf.cond(tf.equal(kind, 2), lambda: _gif_frames(encoded),
                                            lambda: (tf.constant(0, tf.int64),) * 2 + (tf.zeros([2], tf.int64),))
    pixels = tf.maximum(height * width * tf.maximum(frames, 1), frame_pixels)
    size = tf.strings.format("{}x{}", (width, height))
    shorter, longer = tf.minimum(height, width), tf.maximum(height, width)
    return [
        _refuse_unless(shorter >= 1, tf.strings.join(["the header gives no size (", size, "): not a readable photo"])),
        _refuse_unless(pixels <= max_pixels, tf.strings.join([  # pixel_limits.describe's words
            size, tf.where(frames > 1, tf.strings.format(" in {} frames", frames), ""),
            tf.where(largest[0] * largest[1] > height * width, tf.strings.format(", a frame of {}x{}", tuple(
                tf.unstack(largest))), ""),
            tf.strings.format(" = {} pixels, over the limit of {}", (pixels, max_pixels))])),
        _refuse_unless(longer <= MAX_ASPECT_RATIO * shorter,
                       tf.strings.join([size, f" is more elongated than {MAX_ASPECT_RATIO}:1"])),
    ]


def _gif_frames(encoded: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """`pixel_limits.gif_frame_sizes` in graph ops: (frames, the sum of their own sizes, the largest's [width,
    height]). One record per loop step; the sub-blocks after it
    are skipped _WINDOW bytes at a time (`_skip_sub_blocks`), so a GIF of one-byte sub-blocks costs few steps."""
    data = tf.cast(tf.io.decode_raw(tf.strings.join([encoded, b"\x00" * (_WINDOW + 256)]), tf.uint8), tf.int64)
    length = tf.size(data, tf.int64) - _WINDOW - 256
    zero = tf.constant(0, tf.int64)

    def table(flags):  # pixel_limits.color_table_bytes
        return tf.where(flags >= 128, 3 * tf.bitwise.left_shift(tf.constant(2, tf.int64), flags % 8), zero)

    def step(position, in_blocks, done, frames, frame_pixels, largest):
        record = tf.gather(data, tf.minimum(position, length) + tf.range(10, dtype=tf.int64))
        at_record = tf.logical_not(in_blocks)
        is_frame = at_record & tf.equal(record[0], pixel_limits.IMAGE_DESCRIPTOR)
        is_extension = at_record & tf.equal(record[0], pixel_limits.EXTENSION)
        size = tf.stack([record[5] + 256 * record[6], record[7] + 256 * record[8]])
        pixels = tf.where(is_frame, size[0] * size[1], zero)
        position = tf.where(is_frame, position + 11 + table(record[9]), tf.where(is_extension, position + 2, position))
        position, in_blocks = _skip_sub_blocks(data, position, in_blocks | is_frame | is_extension)
        return (position, in_blocks, at_record & tf.logical_not(is_frame | is_extension),
                frames + tf.cast(is_frame, tf.int64), frame_pixels + pixels,
                tf.where(pixels > largest[0] * largest[1], size, largest))

    def more(position, in_blocks, done, frames, frame_pixels, largest):
        return tf.logical_not(done) & (position < length)

    start = pixel_limits.SCREEN_END + table(data[pixel_limits.SCREEN_FLAGS_OFFSET])
    _, _, _, frames, frame_pixels, largest = tf.while_loop(
        more, step, (start, tf.constant(False), tf.constant(False), zero, zero, tf.zeros([2], tf.int64)))
    return frames, frame_pixels, largest


def _skip_sub_blocks(data: tf.Tensor, position: tf.Tensor, in_blocks: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Follow the chain of sub-blocks (a length byte, that many bytes; a zero length ends it) through the next
    _WINDOW bytes at once, by pointer doubling: (where the chain ends, past its zero, or where it leaves the
    window; whether it is still going)."""
    start = tf.minimum(position, tf.size(data, tf.int64) - _WINDOW - 256)  # Past the end, the loop stops anyway.
    window = tf.gather(data, start + tf.range(_WINDOW, dtype=tf.int64))
    offsets = tf.range(_WINDOW, dtype=tf.int64)
    jumps = tf.concat([tf.where(tf.equal(window, 0), offsets, offsets + 1 + window),
                       tf.range(_WINDOW, _WINDOW + 256, dtype=tf.int64)], 0)  # Past the window: fixed points.
    for _ in range(_WINDOW.bit_length()):
        jumps = tf.gather(jumps, jumps)
    end = jumps[0]
    finished = in_blocks & (end < _WINDOW)
    return (tf.where(in_blocks, start + end + tf.cast(finished, tf.int64), position),
            in_blocks & tf.logical_not(finished))


def _refuse_unless(condition: tf.Tensor, reason) -> tf.Operation:
    return tf.debugging.Assert(condition, [tf.strings.join([REFUSAL_MARK, reason])])


def crop_box(height, width, image_size: int) -> tf.Tensor:
    """[top, left, bottom, right] in source pixels (float64) of the square ingestion keeps: the box that
    `image.resize_and_crop` hands Pillow, with Python's rounding (half to even, as tf.round)."""
    height, width = tf.cast(height, tf.float64), tf.cast(width, tf.float64)
    size = tf.constant(image_size, tf.float64)
    scale = size / tf.minimum(height, width)
    new_height, new_width = tf.maximum(size, tf.round(height * scale)), tf.maximum(size, tf.round(width * scale))
    top, left = tf.math.floordiv(new_height - size, 2), tf.math.floordiv(new_width - size, 2)
    scale_y, scale_x = height / new_height, width / new_width
    return tf.stack([top * scale_y, left * scale_x, (top + size) * scale_y, (left + size) * scale_x])


def _window(box: tf.Tensor, height, width, image_size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """The integer [top, left, bottom, right] window covering the box and the filter's reach beyond it (the
    antialiased triangle spans one output pixel, i.e. box/size source pixels, each side), clipped to the image."""
    reach = tf.maximum(tf.constant(1.0, tf.float64), (box[2:] - box[:2]) / image_size) + 1.0
    low = tf.maximum(tf.constant(0.0, tf.float64), tf.floor(box[:2] - reach))
    high = tf.minimum(tf.cast(tf.stack([height, width]), tf.float64), tf.math.ceil(box[2:] + reach))
    return tf.cast(tf.concat([low, high], 0), tf.int32), box - tf.concat([low, low], 0)


def _jpeg_window(encoded, height, width, image_size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Decode only the window, at the DCT scale Pillow's draft picks (the largest of 1, 2, 4, 8 that keeps
    both sides at least DRAFT_MARGIN x image_size)."""
    room = tf.minimum(height, width) // (DRAFT_MARGIN * image_size)
    ratio_index = tf.reduce_sum(tf.cast(room >= tf.constant(_JPEG_RATIOS[1:], tf.int64), tf.int32))

    def decode(ratio: int):
        scaled_height, scaled_width = -(-height // ratio), -(-width // ratio)  # libjpeg rounds up
        window, box = _window(crop_box(scaled_height, scaled_width, image_size), scaled_height, scaled_width,
                              image_size)
        crop = tf.stack([window[0], window[1], window[2] - window[0], window[3] - window[1]])
        pixels = tf.io.decode_and_crop_jpeg(encoded, crop, channels=3, ratio=ratio,
                                            dct_method="INTEGER_ACCURATE")  # Pillow's (libjpeg's default) DCT
        return pixels, box

    return tf.switch_case(ratio_index, [lambda r=r: decode(r) for r in _JPEG_RATIOS])


def _decoded_window(encoded, image_size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """PNG, GIF (first frame) and BMP decode whole, within the pixel bound; then only the window is resampled."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    height, width = tf.shape(image, tf.int64)[0], tf.shape(image, tf.int64)[1]
    window, box = _window(crop_box(height, width, image_size), height, width, image_size)
    return image[window[0]:window[2], window[1]:window[3]], box


def _resample(window: tf.Tensor, box: tf.Tensor, image_size: int) -> tf.Tensor:
    """The box (in window coordinates) resized to image_size x image_size, antialiased bilinear (Pillow's)."""
    scale = image_size / (box[2:] - box[:2])
    pixels = tf.raw_ops.ScaleAndTranslate(
        images=window[tf.newaxis], size=tf.constant([image_size, image_size]),
        scale=tf.cast(scale, tf.float32), translation=tf.cast(-box[:2] * scale, tf.float32),
        kernel_type="triangle", antialias=True)
    return tf.reshape(pixels, [image_size, image_size, 3])


def readable_error(message: str) -> str:
    """The one sentence of a TensorFlow error from a photo signature, without the graph's framing
    ("Graph execution error:", node names, "assertion failed: [...]", eager mode's "Summarized data: b'...'")."""
    if REFUSAL_MARK in message:
        reason = message.split(REFUSAL_MARK, 1)[1]
        return REFUSAL_MARK + reason.split("]")[0].split("'")[0].splitlines()[0]
    noise = ("Graph execution error:", "Detected at node", "<stack traces unavailable>", "[[", "\t")
    lines = [line.strip() for line in message.splitlines() if line.strip() and not line.startswith(noise)]
    sentence = (lines[0] if lines else message.strip()).split(" [[")[0].split(" [Op:")[0]
    return re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", sentence)  # eager mode's op prefix
