"""Incremental ingestion: the encoded images of an earlier Examples artifact, reused for photos whose bytes are
unchanged, so only new or changed photos go through the decoder.

The expensive part of a record is its image (decode, resize, JPEG encode); the rest (label, class, source) comes
from this run's listing: an earlier record is copied whole when those are unchanged, else rebuilt around its image,
so a photo moved to another class folder is relabelled. A record is reused only under its reuse key: the photo's
content key plus a digest of everything else it depends on (the encoding settings, Pillow and its JPEG codec, the
code of the transform and of the record layout), so changed settings or a new Pillow decode everything again.
Every record's reuse key, path and stamp (files.photo_stamp) are written beside it (`REUSE_INDEX_DIR`): the records
themselves do not carry them, and a new feature would change the schema and the statistics of every run.

A photo keeps its shard while the folder grows (beam_job.shard_of), so each shard first looks in the earlier files
of its own index (MatchShard): a photo whose path and stamp are unchanged is not even read, and the worker that
writes the shard copies those records itself. Only the rest (new, moved, copied or changed photos, and those that
moved when the shard count grew) go through a Beam CoGroupByKey on the reuse key over the whole earlier artifact,
so it runs on Dataflow as on the DirectRunner.
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
from components.artifacts import REUSE_INDEX_DIR, REUSE_INDEX_SUFFIX, SPLIT_PREFIX, record_file_prefix
from components.ingestion import image, records, split, tfrecord_files
from components.ingestion.files import photo_stamp, read_file, read_photo
from components.ingestion.pool import PhotoPoolDoFn
from components.ingestion.settings import IngestSettings

UNMATCHED = "unmatched"
_LOCAL = "local"
_PHOTOS = "photos"
_PREVIOUS = "previous"
_SHARD = "shard"
_REUSED = "reused"


class Reused(typing.NamedTuple):
    """An earlier record whose image is reusable for the photo at `position` of a shard, whose bytes have
    `content_key` and whose file had `stamp` (files.photo_stamp) when looked at (see records.reuse_record), with
    its bytes in the earlier file (copied as they are when the record is reused whole)."""

    position: int
    content_key: str
    stamp: str | None
    earlier: tfrecord_files.StoredRecord


class IndexEntry(typing.NamedTuple):
    """A line of a reuse index: a record's reuse key, and its photo's path and stamp when it was read."""

    reuse_key: str
    stamp: str | None
    path: str

    @property
    def content_key(self) -> str:
        return self.reuse_key.rsplit("-", 1)[0]


class Match(typing.NamedTuple):
    """A photo of a shard (at `position`) whose image is record `number` of an earlier record file."""

    number: int
    position: int
    content_key: str
    stamp: str | None


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


def index_line(entry: IndexEntry) -> str:
    """JSON keeps any path on one line (a non-UTF-8 name's surrogate escapes too)."""
    return json.dumps(list(entry), separators=(",", ":"))


def read_entries(index: str) -> list[IndexEntry]:
    """The lines of a reuse index; ValueError when one is not an entry."""
    try:
        return [IndexEntry(*json.loads(line)) for line in read_file(index).decode().splitlines()]
    except (TypeError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{index}: not a reuse index ({error})") from None


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
    for number, entry in enumerate(_reusable_entries(files[1], settings)):
        yield entry.reuse_key, (files, number)


def _reusable_entries(index: str, settings: IngestSettings) -> list[IndexEntry]:
    """The entries of an earlier index when its records were encoded as this run encodes, else none."""
    try:
        entries = read_entries(index)
    except ValueError as error:
        logging.warning("not reusing %s", error)
        return []
    digest = encoding_digest(settings)
    return entries if entries and entries[0].reuse_key.endswith(f"-{digest}") else []


def checked_records(record_path: str, lines: int) -> list[tfrecord_files.StoredRecord]:
    """The records of an earlier file, or none (with a warning) when it is damaged or does not match its index's
    `lines`: its photos are then decoded again."""
    try:
        found = tfrecord_files.read_stored_records(record_path)
    except ValueError as error:
        logging.warning("not reusing %s: %s", record_path, error)
        return []
    if len(found) != lines:
        logging.warning("not reusing %s: %d records but %d index lines", record_path, len(found), lines)
        return []
    return found


def read_requested(files_and_requests) -> typing.Iterator[tuple[int, Reused]]:
    """An earlier record file (read once) and the (record number, shard index, position, content key, stamp) of
    the photos that want its records -> (shard index, Reused)."""
    (record_path, index), requests = files_and_requests
    found = checked_records(record_path, len(read_entries(index)))
    for number, shard_index, position, key, stamp in (requests if found else []):
        yield shard_index, Reused(position, key, stamp, found[number].to_bytes())  # It travels to its shard.


def local_reused(matches: dict[tuple[str, str], tuple[int, list[Match]]]) -> typing.Iterator[Reused]:
    """The images MatchShard found in the earlier files of a shard's own index, read on the worker that writes
    them: (record file, index) -> (index lines, the Matches) -> Reused."""
    for (record_path, _), (lines, wanted) in matches.items():
        found = checked_records(record_path, lines)
        yield from (Reused(m.position, m.content_key, m.stamp, found[m.number]) for m in (wanted if found else []))


class _Located(typing.NamedTuple):
    files: tuple[str, str]
    number: int
    lines: int
    entry: IndexEntry


class MatchShard(PhotoPoolDoFn):
    """A Shard -> (shard index, {earlier files: (index lines, [Match, ...])}) for the photos found in the earlier
    files of the same index (where a photo stays while the folder grows: beam_job.shard_of), and, tagged
    UNMATCHED, (reuse key, (shard index, position, content key, stamp)) of each other photo it can read, for the
    join on the whole earlier artifact. A photo whose path and stamp match its earlier entry is not read (unless
    `incremental_verify_content`); the others are read and hashed. Unreadable photos are left to WriteShard,
    which records why they are rejected."""

    def __init__(self, settings: IngestSettings, threads_per_core: int, earlier: list[tuple[str, str]]):
        super().__init__(threads_per_core)
        self._settings = settings
        self._earlier = earlier

    def process(self, shard):
        by_path, by_key = self._earlier_entries(shard.index)
        digest = encoding_digest(self._settings)
        paths = [path for path, _ in shard.photos]
        stamps = self.look_up(photo_stamp, paths)
        trusted = [self._trusted(path, stamp, by_path) for path, stamp in zip(paths, stamps)]
        read = self.pool.map(self._content_key, [path for path, known in zip(paths, trusted) if known is None])
        matches = {}
        for position, (stamp, known) in enumerate(zip(stamps, trusted)):
            key = known.entry.content_key if known else next(read)
            if key is None:
                continue  # Unreadable: WriteShard records why.
            located = known or by_key.get(reuse_key(key, digest))
            if located is None:
                yield beam.pvalue.TaggedOutput(UNMATCHED, (reuse_key(key, digest), (shard.index, position, key, stamp)))
            else:
                matches.setdefault(located.files, (located.lines, []))[1].append(
                    Match(located.number, position, key, stamp))
        yield shard.index, matches

    def _earlier_entries(self, shard_index: int) -> tuple[dict[str, _Located], dict[str, _Located]]:
        """The reusable entries of the earlier files with this shard's index, by path and by reuse key."""
        by_path, by_key = {}, {}
        prefix = record_file_prefix(shard_index)
        for files in (files for files in self._earlier if files[0].split("/")[-1].startswith(prefix)):
            entries = _reusable_entries(files[1], self._settings)
            for number, entry in enumerate(entries):
                located = _Located(files, number, len(entries), entry)
                by_path[entry.path] = located
                by_key.setdefault(entry.reuse_key, located)
        return by_path, by_key

    def _trusted(self, path: str, stamp: str | None, by_path: dict[str, _Located]) -> _Located | None:
        """The earlier record of a photo whose path and stamp are unchanged, unless every photo is to be read."""
        known = by_path.get(path)
        if self._settings.incremental_verify_content or stamp is None or known is None or known.entry.stamp != stamp:
            return None
        return known

    def _content_key(self, path: str) -> str | None:
        try:
            return split.content_key(read_photo(path, self._settings.max_file_bytes))
        except image.Rejected:
            return None


def requests_for_photos(grouped) -> typing.Iterator[tuple[tuple[str, str], tuple]]:
    """A reuse key's group -> (earlier files, (record number, shard index, position, content key, stamp)) for each
    photo of this run with the key, when the earlier artifact has a record for it (byte-identical copies share
    one). Keys of removed photos yield nothing."""
    _, sides = grouped
    location = next(iter(sides[_PREVIOUS]), None)
    if location is not None:
        files, number = location
        for shard_index, position, key, stamp in sides[_PHOTOS]:
            yield files, (number, shard_index, position, key, stamp)


class PairWithReusable(beam.PTransform):
    """Shards -> (shard, [Reused, ...]): each shard with the images the earlier artifact has for its photos.
    Most come from the earlier files of the shard's own index, read by the worker that writes the shard (no
    image travels); the others (a moved or copied photo, a shard whose photos moved when the shard count grew) are
    found by a join on the reuse key over the whole earlier artifact: only keys travel to the join, each earlier
    file with wanted images is read once, and its images travel once, to the shard that writes them."""

    def __init__(self, settings: IngestSettings, threads_per_core: int, previous_dir: str):
        super().__init__()
        self._settings = settings
        self._threads_per_core = threads_per_core
        self._previous_dir = previous_dir

    def expand(self, shards):
        earlier = previous_files(self._previous_dir)
        matched = shards | "MatchShards" >> beam.ParDo(MatchShard(self._settings, self._threads_per_core, earlier)
                                                       ).with_outputs(UNMATCHED, main=_LOCAL)
        previous = (shards.pipeline
                    | "PreviousFiles" >> beam.Create(earlier)
                    | "ReadIndexes" >> beam.FlatMap(read_index, self._settings))
        joined = ({_PHOTOS: matched[UNMATCHED], _PREVIOUS: previous}
                  | "JoinOnReuseKey" >> beam.CoGroupByKey()
                  | "RequestsForPhotos" >> beam.FlatMap(requests_for_photos)
                  | "ByEarlierFile" >> beam.GroupByKey()
                  | "ReadRequested" >> beam.FlatMap(read_requested))
        sides = {_SHARD: shards | "ByIndex" >> beam.Map(lambda shard: (shard.index, shard)), _REUSED: joined,
                 _LOCAL: matched[_LOCAL]}
        return (sides
                | "JoinOnShard" >> beam.CoGroupByKey()
                | "ShardAndReused" >> beam.MapTuple(lambda _, side: (next(iter(side[_SHARD])), list(side[_REUSED]),
                                                                     next(iter(side[_LOCAL])))))
