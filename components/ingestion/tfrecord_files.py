"""GZIP TFRecord and text files written whole by the worker that made their records: no shuffle of image bytes.

The records are JPEGs, which deflate cannot shrink (level 6, Beam's WriteToTFRecord default, saved about 2 % of
the bytes on the flower records and cost about as much CPU as decoding the photo), so the GZIP files hold stored
(uncompressed) deflate blocks, laid out by a rule of their own: each TFRecord frame starts a block and fills
blocks of STORED_BLOCK_BYTES. Any GZIP reader (TFX, tf.data, Beam) reads them; and a frame's bytes in the file
depend on the frame alone, so an incremental run copies an unchanged record's bytes from the earlier file
(`StoredRecord`) instead of unpacking and packing it again.
"""

from __future__ import annotations

import contextlib
import gzip
import struct
import typing
import uuid
import zlib

import google_crc32c  # Hardware CRC-32C; installed with google-cloud-storage (apache-beam[gcp]).
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

WRITE_CHUNK_BYTES = 2**20
STORED_BLOCK_BYTES = 0xFFFF  # The most a stored deflate block holds.
# GZIP member header: deflate, no flags, no name, mtime 0 (the same records give the same bytes), unknown OS.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
LAST_BLOCK = b"\x01\x00\x00\xff\xff"  # An empty stored block with BFINAL set.
_BLOCK_HEADER = struct.Struct("<BHH")  # BFINAL/BTYPE (0: more to come, stored), LEN, NLEN.


class StoredRecord(typing.NamedTuple):
    """A record as a file of this module holds it: its bytes, and its frame's stored blocks (the file's bytes)."""

    record: bytes | memoryview
    stored: bytes | memoryview

    def to_bytes(self) -> "StoredRecord":
        """A copy that does not hold the file it was read from (to travel between Beam workers)."""
        return StoredRecord(bytes(self.record), bytes(self.stored))


def masked_crc32c(data: bytes | memoryview) -> int:
    """TFRecord's checksum: CRC-32C, rotated right by 15 bits plus a constant."""
    crc = google_crc32c.value(bytes(data) if isinstance(data, memoryview) else data)  # It takes no memoryview.
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord_frame(record: bytes) -> bytes:
    """One TFRecord: uint64 length, masked CRC of the length, data, masked CRC of the data (little-endian)."""
    length = struct.pack("<Q", len(record))
    return length + struct.pack("<I", masked_crc32c(length)) + record + struct.pack("<I", masked_crc32c(record))


def stored_blocks(frame: bytes) -> bytes:
    """A frame as stored deflate blocks of STORED_BLOCK_BYTES (the last one shorter)."""
    pieces = (frame[at:at + STORED_BLOCK_BYTES] for at in range(0, len(frame), STORED_BLOCK_BYTES))
    return b"".join(_BLOCK_HEADER.pack(0, len(piece), len(piece) ^ 0xFFFF) + piece for piece in pieces)


class RecordWriter:
    """Appends records to a GZIP member of stored blocks, WRITE_CHUNK_BYTES at a time (a write call per record
    cost three times as much, measured on this machine); `close` writes the last block and the trailer."""

    def __init__(self, raw: typing.BinaryIO):
        self._raw, self._pending = raw, bytearray(GZIP_HEADER)
        self._crc, self._size = 0, 0

    def write(self, record: bytes) -> None:
        frame = tfrecord_frame(record)
        self._append(stored_blocks(frame), (frame,))

    def copy(self, stored: StoredRecord) -> None:
        """An earlier file's record, its bytes copied as they are (checked when read: `read_stored_records`)."""
        self._append(stored.stored, _payloads(memoryview(stored.stored)))

    def close(self) -> None:
        self._pending += LAST_BLOCK + struct.pack("<II", self._crc, self._size & 0xFFFFFFFF)
        self._raw.write(self._pending)

    def _append(self, blocks: bytes | memoryview, payloads: typing.Iterable[bytes | memoryview]) -> None:
        for payload in payloads:
            self._crc = zlib.crc32(payload, self._crc)
            self._size += len(payload)
        self._pending += blocks
        if len(self._pending) >= WRITE_CHUNK_BYTES:
            self._raw.write(self._pending)
            self._pending.clear()


@contextlib.contextmanager
def gzip_tfrecord_writer(path: str) -> typing.Iterator[RecordWriter]:
    """Yields a RecordWriter for a file written whole (see `whole_file`)."""
    with whole_file(path) as raw:
        writer = RecordWriter(raw)
        yield writer
        writer.close()


def read_tfrecords(path: str) -> list[bytes]:
    """The records of a GZIP TFRecord file, their lengths and checksums checked (ValueError on a damaged file)."""
    return [bytes(found.record) for found in read_stored_records(path)]


def read_stored_records(path: str) -> list[StoredRecord]:
    """The records of a GZIP TFRecord file, checked as `read_tfrecords` checks them. A file laid out as
    RecordWriter writes is not unpacked: each record comes with its bytes in the file, for `RecordWriter.copy`;
    any other GZIP file (another writer's) is decompressed, and its records come with the blocks they would have."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        data = memoryview(handle.read())
    laid_out = _stored_layout(data)
    if laid_out is not None:
        return [StoredRecord(_checked_record(path, frame), data[start:end]) for frame, start, end in laid_out]
    try:
        frames = _frames(memoryview(gzip.decompress(data)), path)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: not a GZIP file ({error})") from None
    return [StoredRecord(_checked_record(path, frame), stored_blocks(frame)) for frame in frames]


def _stored_layout(data: memoryview) -> list[tuple[memoryview, int, int]] | None:
    """(frame, its first byte, its end) in the file for each record when `data` is laid out as RecordWriter
    writes (one GZIP member, each frame starting a block and filling blocks of STORED_BLOCK_BYTES), else None.
    A frame that spans blocks is joined (a copy)."""
    if data[:len(GZIP_HEADER)] != GZIP_HEADER:
        return None
    found, at, size, end = [], len(GZIP_HEADER), 0, len(data) - len(LAST_BLOCK) - 8
    while at < end:
        start, pieces, wanted = at, [], None
        while wanted is None or wanted > 0:
            if at + 5 > end:
                return None
            final, length, check = _BLOCK_HEADER.unpack_from(data, at)
            piece = data[at + 5:at + 5 + length]
            if final or check != length ^ 0xFFFF or len(piece) != length:
                return None
            wanted = (16 + int.from_bytes(piece[:8], "little") if wanted is None and length >= 8 else wanted)
            if wanted is None or length != min(wanted, STORED_BLOCK_BYTES):
                return None
            pieces.append(piece)
            wanted, at = wanted - length, at + 5 + length
        frame = pieces[0] if len(pieces) == 1 else memoryview(b"".join(pieces))
        found.append((frame, start, at))
        size += len(frame)
    trailer_size = int.from_bytes(data[end + len(LAST_BLOCK) + 4:], "little") if at == end else -1
    if data[end:end + len(LAST_BLOCK)] != LAST_BLOCK or trailer_size != size & 0xFFFFFFFF:
        return None
    return found


def _frames(data: memoryview, path: str) -> list[memoryview]:
    """The TFRecord frames of decompressed file data (ValueError when one is cut short)."""
    frames, at = [], 0
    while at < len(data):
        length = int.from_bytes(data[at:at + 8], "little") if at + 8 <= len(data) else -1
        end = at + 16 + length
        if length < 0 or end > len(data):
            raise ValueError(f"{path}: a TFRecord length is damaged or cut short")
        frames.append(data[at:end])
        at = end
    return frames


def _checked_record(path: str, frame: memoryview) -> memoryview:
    """A frame's data, after checking the masked CRCs of its length and of its data."""
    if frame[8:12] != struct.pack("<I", masked_crc32c(frame[:8])):
        raise ValueError(f"{path}: a TFRecord length is damaged or cut short")
    record = frame[12:-4]
    if frame[-4:] != struct.pack("<I", masked_crc32c(record)):
        raise ValueError(f"{path}: a TFRecord checksum does not match its data")
    return record


def _payloads(stored: memoryview) -> typing.Iterator[memoryview]:
    """The data of each stored block of a frame's blocks."""
    at = 0
    while at < len(stored):
        length = stored[at + 1] | stored[at + 2] << 8
        yield stored[at + 5:at + 5 + length]
        at += 5 + length


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
