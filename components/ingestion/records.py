"""tf.train.Example serialization (and reading back the image) without importing TensorFlow.

Beam workers and the `ingest` command would otherwise pay TensorFlow's ~5 s import per process just to write
a protobuf whose wire format is fixed; the tests check the bytes parse with `tf.io.parse_single_example`.
"""

from __future__ import annotations

import functools
from typing import Mapping, Sequence, Union

from components.artifacts import CLASS_FEATURE, IMAGE_FEATURE, LABEL_FEATURE, SIZE_FEATURE, SOURCE_FEATURE

FeatureValue = Union[bytes, int, Sequence[int]]
_ONE_BYTE = [bytes((value,)) for value in range(0x80)]


def photo_record(*, jpeg: bytes, class_id: int, label: str, image_size: int, source: bytes) -> bytes:
    """The serialized Example of one ingested photo: the layout every reader of an Examples artifact parses."""
    return make_example({IMAGE_FEATURE: jpeg, CLASS_FEATURE: class_id, LABEL_FEATURE: label.encode(),
                         SIZE_FEATURE: [image_size, image_size], SOURCE_FEATURE: source})


def make_example(features: Mapping[str, FeatureValue]) -> bytes:
    """Serialized Example: bytes become a BytesList, ints and int sequences an Int64List; keys sorted."""
    entries = b"".join(_entry(name, value) for name, value in sorted(features.items()))
    return _field(1, entries)  # Example.features { feature: <map entries> }


def _entry(name: str, value: FeatureValue) -> bytes:
    """One entry of the Features map (key, Feature)."""
    return _field(1, _field(1, name.encode()) + _field(2, _feature(value)))


def reuse_record(previous: bytes, *, class_id: int, label: str, image_size: int, source: bytes) -> bytes:
    """The record photo_record writes for these values and `previous`'s image: `previous` itself when its other
    features already hold them (a photo neither moved nor renamed), without copying or re-encoding the image."""
    wanted = {CLASS_FEATURE: class_id, LABEL_FEATURE: label.encode(), SIZE_FEATURE: (image_size, image_size),
              SOURCE_FEATURE: source}
    before = b"".join(_recent_entry(name, value) for name, value in sorted(wanted.items()) if name < IMAGE_FEATURE)
    after = b"".join(_recent_entry(name, value) for name, value in sorted(wanted.items()) if name > IMAGE_FEATURE)
    if _only_image_between(memoryview(previous), before, after):
        return previous
    return photo_record(jpeg=record_image(previous), class_id=class_id, label=label, image_size=image_size,
                        source=source)


@functools.lru_cache(maxsize=64)  # The class, label and size entries recur with every record of a shard.
def _recent_entry(name: str, value: FeatureValue) -> bytes:
    return _entry(name, value)


def _only_image_between(record: memoryview, before: bytes, after: bytes) -> bool:
    """Whether the record's map entries (sorted by name, as make_example writes them) are `before`, one image
    entry and `after`: compared as bytes, only the image entry's header parsed (most records are reused whole)."""
    if record[:1] != b"\x0a":  # Example.features, length-delimited
        return False
    length, at = _read_varint(record, 1)
    end = len(record) - len(after)
    if at + length != len(record) or end < at + len(before) or record[at:at + len(before)] != before \
            or record[end:] != after:
        return False
    entries = record[at + len(before):end]
    try:
        return [bytes(_only(entry, 1)) for entry in _payloads(entries, 1)] == [IMAGE_FEATURE.encode()]
    except (ValueError, IndexError):
        return False


def record_image(record: bytes) -> bytes:
    """The IMAGE_FEATURE bytes of a record photo_record wrote."""
    image = _features(record).get(IMAGE_FEATURE)
    if image is None:
        raise ValueError(f"the record has no {IMAGE_FEATURE!r} feature")
    return bytes(_only(_only(image, 1), 1))  # Feature.bytes_list.value


def _features(record: bytes) -> dict[str, memoryview]:
    """Feature name -> its serialized Feature, as views into `record` (no copy of the image)."""
    entries = _payloads(_only(memoryview(record), 1), 1)  # Example.features -> its map entries
    return {bytes(_only(entry, 1)).decode(): _only(entry, 2) for entry in entries}


def _feature(value: FeatureValue) -> bytes:
    if isinstance(value, bytes):
        return _field(1, _field(1, value))  # Feature.bytes_list { value: ... }
    values = [value] if isinstance(value, int) else list(value)
    packed = b"".join(_varint(v & 0xFFFFFFFFFFFFFFFF) for v in values)  # int64 two's complement
    return _field(3, _field(1, packed))  # Feature.int64_list { packed value }


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    if value <= 0x7F:  # Tags and most lengths: one byte.
        return _ONE_BYTE[value]
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _payloads(message: memoryview, number: int) -> list[memoryview]:
    """The payloads of field `number` in a message made of length-delimited fields only (as _field writes)."""
    found, at = [], 0
    while at < len(message):
        tag, at = _read_varint(message, at)
        if tag & 7 != 2:
            raise ValueError(f"unexpected wire type {tag & 7} in a record")
        length, at = _read_varint(message, at)
        if tag >> 3 == number:
            found.append(message[at:at + length])
        at += length
    return found


def _only(message: memoryview, number: int) -> memoryview:
    payloads = _payloads(message, number)
    if len(payloads) != 1:
        raise ValueError(f"expected one field {number} in a record, found {len(payloads)}")
    return payloads[0]


def _read_varint(data: memoryview, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at
