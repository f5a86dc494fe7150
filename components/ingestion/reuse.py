"""Incremental ingestion: the encoded images of an earlier Examples artifact, reused for photos whose bytes are
unchanged, so only new or changed photos go through the decoder.

The expensive part of a record is its image (decode, resize, JPEG encode); the rest (label, class, source) comes
from this run's listing: an earlier record is copied whole when those are unchanged, else rebuilt around its image,
so a photo moved to another class folder is relabelled. A record is reused only under its reuse key: the photo's
content key plus a digest of everything else it depends on (the encoding settings, Pillow and its JPEG codec, the
code of the transform and of the record layout), so changed settings or a new Pillow decode everything again.
Every record's reuse key is written beside it (`components.artifacts.REUSE_INDEX_DIR`): the records themselves do
not carry it, and a new feature would change the schema and the statistics of every run. The join is a Beam
CoGroupByKey on the reuse key, so it runs on Dataflow as on the DirectRunner.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import typing

import apache_beam as beam
import PIL
from apache_beam.io.filesystems import FileSystems
from PIL import features

from components import paths
from components.artifacts import REUSE_INDEX_DIR, REUSE_INDEX_SUFFIX, SPLIT_PREFIX
from components.ingestion import image, records, split, tfrecord_files
from components.ingestion.files import read_file, read_photo
from components.ingestion.pool import PhotoPoolDoFn
from components.ingestion.settings import IngestSettings

_PHOTOS = "photos"
_PREVIOUS = "previous"
_SHARD = "shard"
_REUSED = "reused"


class Reused(typing.NamedTuple):
    """An earlier record whose image is reusable for the photo at `position` of a shard, whose bytes have
    `content_key` (see records.reuse_record)."""

    position: int
    content_key: str
    record: bytes


@functools.lru_cache(maxsize=None)
def encoding_digest(settings: IngestSettings) -> str:
    """What a record's image depends on besides the photo's bytes, and the code that lays out records (which
    reuses a record whole when the photo's label and path are unchanged). Computed on the worker that encodes,
    whose Pillow may differ from the launcher's."""
    parts = {"image_size": settings.image_size, "jpeg_quality": settings.jpeg_quality,
             "max_image_pixels": settings.max_image_pixels, "pillow": PIL.__version__,
             "jpeg_codec": features.version_codec("jpg"),
             "code": [hashlib.sha256(inspect.getsource(module).encode()).hexdigest() for module in (image, records)]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def reuse_key(content_key: str, digest: str) -> str:
    return f"{content_key}-{digest}"


def index_path(output_dir: str, split_name: str, record_file: str) -> str:
    """The reuse index of the record file named `record_file` in a split of the artifact at output_dir."""
    return FileSystems.join(output_dir, REUSE_INDEX_DIR, f"{SPLIT_PREFIX}{split_name}",
                            record_file + REUSE_INDEX_SUFFIX)


def previous_files(previous_dir: str) -> list[tuple[str, str]]:
    """(record file, its index) of every indexed record file still in the earlier artifact (none without an
    index: an artifact written before incremental ingestion, or removed)."""
    root = paths.literal(previous_dir)
    indexes = FileSystems.match([FileSystems.join(root, REUSE_INDEX_DIR, f"{SPLIT_PREFIX}*", f"*{REUSE_INDEX_SUFFIX}")])
    pairs = []
    for index in sorted(found.path for found in indexes[0].metadata_list):
        split_folder, name = index.split("/")[-2:]
        pairs.append((FileSystems.join(previous_dir, split_folder, name.removesuffix(REUSE_INDEX_SUFFIX)), index))
    existing = FileSystems.match([paths.literal(record) for record, _ in pairs]) if pairs else []
    return [pair for pair, found in zip(pairs, existing) if found.metadata_list]


def read_index(files: tuple[str, str], settings: IngestSettings) -> typing.Iterator[tuple[str, tuple]]:
    """(record file, index) of the earlier artifact -> (reuse key, (files, record number)) of each record encoded
    as this run encodes (an index holds one run's keys: the first tells)."""
    keys = read_file(files[1]).decode().split()
    if keys and keys[0].endswith(encoding_digest(settings)):
        for number, key in enumerate(keys):
            yield key, (files, number)


def read_requested(files_and_requests) -> typing.Iterator[tuple[int, Reused]]:
    """An earlier record file (read once) and the (record number, shard index, position, content key) of the
    photos that want its records -> (shard index, Reused). A file that does not match its index is skipped: its
    photos are decoded again."""
    (record_path, index), requests = files_and_requests
    try:
        found = tfrecord_files.read_tfrecords(record_path)
    except ValueError as error:
        logging.warning("not reusing %s: %s", record_path, error)
        return
    lines = len(read_file(index).split())
    if len(found) != lines:
        logging.warning("not reusing %s: %d records but %d index lines", record_path, len(found), lines)
        return
    for number, shard_index, position, key in requests:
        yield shard_index, Reused(position, key, found[number])


class KeyPhotos(PhotoPoolDoFn):
    """A Shard -> (reuse key, (shard index, position, content key)) of each photo it can read; the others are
    left to WriteShard, which records why they are rejected."""

    def __init__(self, settings: IngestSettings, threads_per_core: int):
        super().__init__(threads_per_core)
        self._settings = settings

    def process(self, shard):
        digest = encoding_digest(self._settings)
        for position, key in enumerate(self.pool.map(self._content_key, shard.photos)):
            if key is not None:
                yield reuse_key(key, digest), (shard.index, position, key)

    def _content_key(self, photo: tuple[str, str]) -> str | None:
        try:
            return split.content_key(read_photo(photo[0], self._settings.max_file_bytes))
        except image.Rejected:
            return None


def requests_for_photos(grouped) -> typing.Iterator[tuple[tuple[str, str], tuple]]:
    """A reuse key's group -> (earlier files, (record number, shard index, position, content key)) for each photo
    of this run with the key, when the earlier artifact has a record for it (byte-identical copies share one).
    Keys of removed photos yield nothing."""
    _, sides = grouped
    location = next(iter(sides[_PREVIOUS]), None)
    if location is not None:
        files, number = location
        for shard_index, position, key in sides[_PHOTOS]:
            yield files, (number, shard_index, position, key)


class PairWithReusable(beam.PTransform):
    """Shards -> (shard, [Reused, ...]): each shard with the images the earlier artifact has for its photos. Only
    keys travel to the join; each earlier file with wanted images is read once, and its images travel once, to
    the shard that writes them."""

    def __init__(self, settings: IngestSettings, threads_per_core: int, previous_dir: str):
        super().__init__()
        self._settings = settings
        self._threads_per_core = threads_per_core
        self._previous_dir = previous_dir

    def expand(self, shards):
        previous = (shards.pipeline
                    | "PreviousFiles" >> beam.Create(previous_files(self._previous_dir))
                    | "ReadIndexes" >> beam.FlatMap(read_index, self._settings))
        photos = shards | "KeyPhotos" >> beam.ParDo(KeyPhotos(self._settings, self._threads_per_core))
        reused = ({_PHOTOS: photos, _PREVIOUS: previous}
                  | "JoinOnReuseKey" >> beam.CoGroupByKey()
                  | "RequestsForPhotos" >> beam.FlatMap(requests_for_photos)
                  | "ByEarlierFile" >> beam.GroupByKey()
                  | "ReadRequested" >> beam.FlatMap(read_requested))
        return ({_SHARD: shards | "ByIndex" >> beam.Map(lambda shard: (shard.index, shard)), _REUSED: reused}
                | "JoinOnShard" >> beam.CoGroupByKey()
                | "ShardAndReused" >> beam.MapTuple(lambda _, sides: (next(iter(sides[_SHARD])), list(sides[_REUSED]))))
