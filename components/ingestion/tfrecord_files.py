"""GZIP TFRecord and text files written whole by the worker that made their records: no shuffle of image bytes.

Written with a cheap deflate level: records are JPEGs, which deflate cannot shrink (level 6, Beam's
WriteToTFRecord default, saved about 2 % of the bytes on the flower records and cost about as much CPU as
decoding the photo). Level 0 writes stored deflate blocks: still GZIP, as TFX and tf.data expect.
"""

from __future__ import annotations

import contextlib
import gzip
import struct
import typing
import uuid

import google_crc32c  # Hardware CRC-32C; installed with google-cloud-storage (apache-beam[gcp]).
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

GZIP_LEVEL = 0
WRITE_CHUNK_BYTES = 2**20


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: CRC-32C, rotated right by 15 bits plus a constant."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord_frame(record: bytes) -> bytes:
    """One TFRecord: uint64 length, masked CRC of the length, data, masked CRC of the data (little-endian)."""
    length = struct.pack("<Q", len(record))
    return length + struct.pack("<I", masked_crc32c(length)) + record + struct.pack("<I", masked_crc32c(record))


@contextlib.contextmanager
def gzip_tfrecord_writer(path: str) -> typing.Iterator[typing.Callable[[bytes], None]]:
    """Yields write(record), for a file written whole (see `whole_file`). The same records give the same bytes:
    no time and no (temporary, random) file name in the GZIP header. Frames are compressed and written
    WRITE_CHUNK_BYTES at a time: a write call per record cost three times as much (measured on this machine)."""
    pending = bytearray()
    with whole_file(path) as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL,
                                                mtime=0) as handle:
        def write(record: bytes) -> None:
            pending.extend(tfrecord_frame(record))
            if len(pending) >= WRITE_CHUNK_BYTES:
                handle.write(pending)
                pending.clear()

        yield write
        handle.write(pending)


def read_tfrecords(path: str) -> list[bytes]:
    """The records of a GZIP TFRecord file, their lengths and checksums checked (ValueError on a damaged file)."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        data = gzip.decompress(handle.read())
    records, at = [], 0
    while at < len(data):
        length_bytes = data[at:at + 8]
        length = struct.unpack("<Q", length_bytes)[0] if len(length_bytes) == 8 else -1
        end = at + 16 + length
        if length < 0 or end > len(data) or data[at + 8:at + 12] != struct.pack("<I", masked_crc32c(length_bytes)):
            raise ValueError(f"{path}: a TFRecord length is damaged or cut short")
        record = data[at + 12:end - 4]
        if data[end - 4:end] != struct.pack("<I", masked_crc32c(record)):
            raise ValueError(f"{path}: a TFRecord checksum does not match its data")
        records.append(record)
        at = end
    return records


@contextlib.contextmanager
def line_writer(path: str) -> typing.Iterator[typing.Callable[[str], None]]:
    """Yields write(line), for a text file written whole in the order of the calls."""
    with whole_file(path) as raw:
        yield lambda line: raw.write(f"{line}\n".encode())


def write_lines(path: str, lines: typing.Iterable[str]) -> None:
    """A text file of sorted lines, written whole. Beam's WriteToText cannot write under a folder whose name
    holds glob characters (`run[1]`): it matches its own temporary files with an unescaped pattern."""
    with whole_file(path) as raw:
        raw.write("".join(f"{line}\n" for line in sorted(lines)).encode())


@contextlib.contextmanager
def whole_file(path: str) -> typing.Iterator[typing.BinaryIO]:
    """Yields the raw handle of a file written under a temporary name and renamed when the block ends cleanly:
    a failed or retried worker never leaves a partial file under the final name."""
    temp_path = f"{path}.tmp-{uuid.uuid4().hex}"
    try:
        with FileSystems.create(temp_path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
            yield raw
        FileSystems.rename([temp_path], [path])
    except BaseException:
        if FileSystems.exists(temp_path):
            FileSystems.delete([temp_path])
        raise
