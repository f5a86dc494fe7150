"""Helpers for the training tests: coloured synthetic photos, ingested into GZIP TFRecords by ingestion's own record
builder (the resize and crop reimplemented here with Pillow, as the oracle the serving tests compare with), and
Trainer FnArgs for them."""

from __future__ import annotations

import io
import os
import struct

import numpy as np
import tensorflow as tf
from PIL import Image

from components import artifacts
from components.ingestion import records

CLASSES = ["red", "green", "blue"]
IMAGE_SIZE = 32
PER_CLASS = {"train": 16, "eval": 6}


def colour_photo(class_index: int, width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """4x4 blocks of noise with one dominant channel: trivially separable by colour, whatever the size, and smooth
    enough that JPEG re-encoding barely changes it (as with real photos)."""
    blocks = rng.integers(0, 90, size=(height // 4 + 1, width // 4 + 1, 3))
    blocks[..., class_index] += 140
    return Image.fromarray(np.kron(blocks, np.ones((4, 4, 1))).astype(np.uint8)[:height, :width])


def ingest_like(photo: Image.Image, size: int) -> Image.Image:
    """The ingestion transform: shorter side to `size` (Pillow BILINEAR), then a centre crop."""
    width, height = photo.size
    scale = size / min(width, height)
    new_width, new_height = max(size, round(width * scale)), max(size, round(height * scale))
    resized = photo.convert("RGB").resize((new_width, new_height), Image.BILINEAR)
    left, top = (new_width - size) // 2, (new_height - size) // 2
    return resized.crop((left, top, left + size, top + size))


def to_example(photo: Image.Image, class_index: int, source: str, size: int = IMAGE_SIZE) -> bytes:
    buffer = io.BytesIO()
    ingest_like(photo, size).save(buffer, format="JPEG", quality=95, subsampling=0)
    return records.photo_record(jpeg=buffer.getvalue(), class_id=class_index, label=CLASSES[class_index],
                                image_size=size, source=source.encode())


def write_split(examples_dir: str, split: str, split_records: list[bytes], shards: int = 2) -> None:
    split_dir = artifacts.split_dir(examples_dir, split)
    os.makedirs(split_dir, exist_ok=True)
    for shard in range(shards):
        path = os.path.join(split_dir, f"{artifacts.RECORD_PREFIX}-{shard:05d}-of-{shards:05d}.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for record in split_records[shard::shards]:
                writer.write(record)


def fn_args(examples: str, out: str, training: dict, **overrides):
    """A Trainer FnArgs as the TFX executor builds it for these examples."""
    from tfx.components.trainer.fn_args_utils import FnArgs

    from components.training import trainer_custom_config

    return FnArgs(train_files=artifacts.split_files(examples, artifacts.TRAIN_SPLIT),
                  eval_files=artifacts.split_files(examples, artifacts.EVAL_SPLIT),
                  serving_model_dir=os.path.join(out, "Format-Serving"), model_run_dir=os.path.join(out, "run"),
                  custom_config=trainer_custom_config(training, CLASSES, IMAGE_SIZE), **overrides)


def training_settings(**changes) -> dict:
    """The pipeline's training defaults with small, fast values for tests."""
    import dataclasses

    from components.training.settings import TrainingSettings

    fast = dict(model="squeezenet", model_options={"mobilenet_v2": {"weights": "none"}}, epochs=4, batch_size=8,
                learning_rate=4e-3, warmup_epochs=1, shuffle_buffer=64, accelerator="cpu")
    return dataclasses.asdict(TrainingSettings(**{**fast, **changes}))


def zeros_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of zeros, built without ever holding its pixels: a 30000x30000 one is
    about 110 KB, the decompression bomb a few hundred bytes of which must not take a server down."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the packed bits
    compressor, idat, rows_per_piece = zlib.compressobj(9), [], max(1, 2**20 // len(row))
    for start in range(0, height, rows_per_piece):
        idat.append(compressor.compress(row * min(rows_per_piece, height - start)))
    idat.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(idat)) + chunk(b"IEND", b"")


# The feature cache's stores, for tests run over both: the disk store with files small enough that even these tiny
# activations span several of them, and a shuffle buffer smaller than the train split.
FEATURE_STORES = ("memory", "disk")
TEST_SHARD_BYTES, TEST_SHUFFLE_BUFFER = 3000, 8


def open_test_store(kind: str):
    from components.training import feature_store

    return feature_store.open_store(kind, TEST_SHUFFLE_BUFFER, shard_bytes=TEST_SHARD_BYTES)


def table_array(table) -> np.ndarray:
    """Every row of a feature table, read back through its own dataset."""
    return np.concatenate(list(table.dataset().batch(4096).as_numpy_iterator()))


def gif_with_frame(frame_width: int, frame_height: int, screen: int = 64) -> bytes:
    """A GIF whose logical screen says screen x screen but whose one frame's descriptor says frame_width x
    frame_height (Pillow's encoding of a small photo, that one header field changed): the size a decoder
    allocates when it trusts the frame and checks only the screen."""
    buffer = io.BytesIO()
    Image.new("P", (screen, screen)).save(buffer, "GIF")
    data = bytearray(buffer.getvalue())
    descriptor = data.index(b"\x2c\x00\x00\x00\x00", 13)  # Image separator, left 0, top 0.
    data[descriptor + 5:descriptor + 9] = struct.pack("<HH", frame_width, frame_height)
    return bytes(data)
