"""The ingestion Beam graph, shared by the TFX executor and the standalone `flowers-pipeline ingest` job.

listing (driver) -> shards of photos -> WriteShard (each writes its own train and eval file) -> rejected.jsonl,
duplicates.jsonl (byte-identical photos, grouped by content key), ingest_summary.json.
Counting and the failure checks run in the launching process around the Beam job, so a failure reaches the
user as one UserError line instead of a worker traceback.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import math
import os
import stat
import typing

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from components import paths
from components.artifacts import (DUPLICATES_FILE, RECORD_PREFIX, REJECTED_FILE, SPLIT_PREFIX, SPLITS, SUMMARY_FILE,
                                  split_dir)
from components.errors import UserError, printable
from components.ingestion import image, records, sources, split, tfrecord_files

_REJECTED = "rejected"
_OUTCOMES = "outcomes"
_KEYS = "keys"
_EXAMPLES_SHOWN = 5
LOCAL_THREADS_PER_CORE = 2
REMOTE_THREADS_PER_CORE = 8  # A GCS read is tens of ms of waiting; decoding it is about 2 ms of CPU.


@dataclasses.dataclass(frozen=True)
class IngestSettings:
    """Everything the job needs besides where to read and write; travels in the component's custom_config."""

    classes: tuple[str, ...]
    image_size: int
    eval_fraction: float
    records_per_shard: int
    max_shards: int
    max_rejected_fraction: float
    max_image_pixels: int
    max_file_bytes: int
    jpeg_quality: int

    @classmethod
    def from_dict(cls, values: typing.Mapping[str, typing.Any]) -> "IngestSettings":
        """Coerce to the field types (a protobuf Struct turns every number into a float)."""
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: tuple(values[f.name]) if f.name == "classes" else hints[f.name](values[f.name])
                      for f in dataclasses.fields(cls)})

    def to_dict(self) -> dict[str, typing.Any]:
        return {**dataclasses.asdict(self), "classes": list(self.classes)}


def shard_count(expected_records: float, records_per_shard: int, max_shards: int) -> int:
    """About records_per_shard per file, at least 2 files when there are 2+ records, at most max_shards."""
    wanted = math.ceil(expected_records / records_per_shard)
    floor = 2 if expected_records >= 2 else 1
    return max(1, min(max_shards, max(wanted, floor)))


def read_file(path: str, max_bytes: int = -1) -> bytes:
    """Whole file (at most max_bytes + 1 bytes of it) through Beam's file systems (local, gs://), never
    decompressed by extension."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read(max_bytes + 1 if max_bytes >= 0 else -1)


def read_photo(path: str, max_bytes: int) -> bytes:
    """The photo's bytes; image.Rejected when it cannot be read, is no regular file, or is over max_bytes.

    A remote read stops one byte past the limit, so an oversized file costs no more memory than an allowed one.
    """
    try:
        data = read_file(path, max_bytes) if sources.is_remote(path) else _read_local_file(path, max_bytes)
    except image.Rejected:
        raise
    except Exception as error:  # PermissionError, FileNotFoundError, BeamIOError, ...
        raise image.Rejected(image.UNREADABLE, f"{type(error).__name__}: {error}") from None
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _read_local_file(path: str, max_bytes: int) -> bytes:
    """Checked by its status first: opening a FIFO or device could block forever, and a file known to be
    too large is never read. (A bounded read(max_bytes + 1) would allocate max_bytes for every photo.)"""
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise OSError("not a regular file (reading a FIFO or device could block forever)")
    if status.st_size > max_bytes:
        raise _too_large(max_bytes)
    with open(path, "rb") as handle:
        return handle.read()


def _too_large(max_bytes: int) -> image.Rejected:
    return image.Rejected(image.FILE_TOO_LARGE, f"more than max_file_bytes={max_bytes} bytes")


def path_bytes(path: str) -> bytes:
    """A listed path as bytes: a non-UTF-8 file name (decoded with surrogate escapes) keeps its own bytes, which
    Beam's string coder would refuse."""
    return path.encode("utf-8", "surrogateescape")


def photo_to_record(path: str, label: str, data: bytes, settings: IngestSettings) -> bytes:
    """The serialized Example of one photo (data is its content); raises image.Rejected."""
    jpeg = image.transform(data, size=settings.image_size, jpeg_quality=settings.jpeg_quality,
                           max_image_pixels=settings.max_image_pixels)
    return records.photo_record(jpeg=jpeg, class_id=settings.classes.index(label), label=label,
                                image_size=settings.image_size, source=path_bytes(path))


class Shard(typing.NamedTuple):
    """A unit of work: every count-th listed photo from index, which become the index-th file of each split."""

    index: int
    count: int
    photos: list[tuple[str, str]]


def make_shards(listing: sources.Listing, settings: IngestSettings) -> list[Shard]:
    """Photos dealt round-robin, so every file mixes the classes (the listing is sorted by class)."""
    count = shard_count(len(listing.photos), settings.records_per_shard, settings.max_shards)
    return [Shard(index, count, listing.photos[index::count]) for index in range(count)]


def shard_path(output_dir: str, split_name: str, shard: Shard) -> str:
    """TFX's own naming for the files of a split."""
    return FileSystems.join(split_dir(output_dir, split_name),
                            f"{RECORD_PREFIX}-{shard.index:05d}-of-{shard.count:05d}.gz")


class Written(typing.NamedTuple):
    split: str
    label: str
    record: bytes
    path: str
    content_key: str  # Also what decides the split, so byte-identical photos share one.


class _PhotoDoFn(beam.DoFn):
    """Turns photos into records on a thread pool; bad input becomes a manifest entry, never an exception.

    File reads, hashing and Pillow's decode and resize release the GIL (its JPEG encode does not), so one Beam
    worker (the in-process DirectRunner included) keeps most of every core busy: about 1.7 of 2 measured.
    Remote reads wait on the network, so they get more threads per core than local ones.
    """

    def __init__(self, settings: IngestSettings, threads_per_core: int):
        self._settings = settings
        self._threads_per_core = threads_per_core
        self._pool = None

    def setup(self):
        sources.use_anonymous_gcs_if_needed()  # Also in worker processes, which start with an empty cache.
        threads = self._threads_per_core * (os.cpu_count() or 1)  # The worker's cores, not the launcher's.
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="photo")

    def teardown(self):
        if self._pool is not None:
            self._pool.shutdown()

    def results(self, photos: list[tuple[str, str]]) -> typing.Iterator[Written | dict]:
        """In listing order: a Written record, or the photo's rejects-manifest entry."""
        return self._pool.map(self._process_one, photos)

    def _process_one(self, photo: tuple[str, str]) -> Written | dict:
        path, label = photo
        try:
            data = read_photo(path, self._settings.max_file_bytes)
            example = photo_to_record(path, label, data, self._settings)
        except image.Rejected as rejected:
            return _rejection(path, rejected.reason, rejected.detail)
        except Exception as error:  # A photo no rule foresaw: reported with the error, never a job failure.
            return _rejection(path, image.UNEXPECTED, f"{type(error).__name__}: {error}")
        key = split.content_key(data)
        return Written(split.split_for(key, self._settings.eval_fraction), label, example, path, key)


class WriteShard(_PhotoDoFn):
    """A Shard -> its train and eval files, written here; outputs its rejections (manifest lines), a Counter of
    outcomes and the (content key, (path as bytes, label)) of every written photo.

    The worker that made the records writes them: no shuffle moves image bytes between workers (Beam's
    file sinks group every record by shard first, which cost ~0.5 ms a photo, a third of its transform).
    """

    def __init__(self, settings: IngestSettings, threads_per_core: int, output_dir: str):
        super().__init__(settings, threads_per_core)
        self._output_dir = output_dir

    def process(self, shard: Shard):
        outcomes = collections.Counter()
        with contextlib.ExitStack() as files:
            write = {name: files.enter_context(tfrecord_files.gzip_tfrecord_writer(
                shard_path(self._output_dir, name, shard))) for name in SPLITS}
            for result in self.results(shard.photos):
                if isinstance(result, Written):
                    write[result.split](result.record)
                    outcomes["written", result.split, result.label] += 1
                    yield beam.pvalue.TaggedOutput(_KEYS, (result.content_key, (path_bytes(result.path), result.label)))
                else:
                    outcomes["rejected", result["reason"]] += 1
                    yield beam.pvalue.TaggedOutput(_REJECTED, manifest_line(result))
        yield beam.pvalue.TaggedOutput(_OUTCOMES, outcomes)


class ShardRecords(_PhotoDoFn):
    """A Shard -> its serialized records, both splits (for callers that write them some other way)."""

    def process(self, shard: Shard):
        for result in self.results(shard.photos):
            if isinstance(result, Written):
                yield result.record


def manifest_line(entry: dict) -> str:
    """A rejected.jsonl line. Entries travel through Beam as this ASCII JSON text: a non-UTF-8 file name
    (decoded with surrogate escapes) is written as \\udcXX, where Beam's string coder would refuse it."""
    return json.dumps(entry)


def _rejection(path: str, reason: str, detail: str) -> dict:
    return {"path": path, "reason": reason, "detail": detail[:500]}


class CountOutcomes(beam.CombineFn):
    """Sums the Counters of ("written", split, class), ("rejected", reason) and ("duplicates", kind) keys."""

    def create_accumulator(self):
        return collections.Counter()

    def add_input(self, counts, shard_counts):
        counts.update(shard_counts)
        return counts

    def merge_accumulators(self, accumulators):
        return sum(accumulators, collections.Counter())

    def extract_output(self, counts):
        return dict(counts)


def duplicate_groups(key_and_photos) -> typing.Iterator[dict]:
    """The photos sharing a content key, when there are two or more (paths still as bytes)."""
    key, photos = key_and_photos
    photos = sorted(photos)
    if len(photos) > 1:
        yield {"content_key": key, "paths": [path for path, _ in photos],
               "labels": sorted({label for _, label in photos})}


def duplicate_json(group: dict) -> str:
    """A duplicates.jsonl line; paths written as manifest_line writes them (a non-UTF-8 byte as \\udcXX)."""
    return json.dumps({**group, "paths": [path.decode("utf-8", "surrogateescape") for path in group["paths"]]})


def duplicate_counts(group: dict) -> collections.Counter:
    """A duplicate group's share of the summary's `duplicates` figures."""
    return collections.Counter({("duplicates", "groups"): 1, ("duplicates", "extra_copies"): len(group["paths"]) - 1,
                                ("duplicates", "groups_with_conflicting_labels"): int(len(group["labels"]) > 1)})


def make_summary(counts: dict, classes: typing.Sequence[str], ignored: dict[str, int]) -> dict:
    """The ingest_summary.json document; seen = written + rejected, ignored paths counted apart."""
    written = {name: {label: counts.get(("written", name, label), 0) for label in classes}
               for name in SPLITS}
    by_reason = {key[1]: n for key, n in sorted(counts.items()) if key[0] == "rejected"}
    rejected = sum(by_reason.values())
    return {
        "seen": sum(sum(per_class.values()) for per_class in written.values()) + rejected,
        "written": written,
        "rejected": rejected,
        "rejected_by_reason": by_reason,
        "ignored": sum(ignored.values()),
        "ignored_by_reason": ignored,
        "duplicates": {kind: counts.get(("duplicates", kind), 0)
                       for kind in ("groups", "extra_copies", "groups_with_conflicting_labels")},
    }


def listed_shards(pipeline: beam.Pipeline, listing: sources.Listing, settings: IngestSettings):
    """Create reshuffles its elements, so with several Beam workers the shards spread over them."""
    return pipeline | "ListedShards" >> beam.Create(make_shards(listing, settings))


def threads_per_core(listing: sources.Listing) -> int:
    remote = any(sources.is_remote(path) for path, _ in listing.photos[:1])
    return REMOTE_THREADS_PER_CORE if remote else LOCAL_THREADS_PER_CORE


def build_graph(pipeline: beam.Pipeline, listing: sources.Listing, settings: IngestSettings,
                output_dir: str) -> None:
    """The whole job on `pipeline` (the one graph both the executor and run_ingest run): sharded GZIP
    TFRecords per split, the single-file rejects manifest and the summary, under output_dir."""
    results = (listed_shards(pipeline, listing, settings)
               | "WriteShards" >> beam.ParDo(WriteShard(settings, threads_per_core(listing), output_dir))
               .with_outputs(_REJECTED, _OUTCOMES, _KEYS))
    ignored = pipeline | "IgnoredPaths" >> beam.Create([manifest_line(item) for item in listing.ignored])
    _ = ((results[_REJECTED], ignored)
         | "AllRejects" >> beam.Flatten()
         | "WriteRejects" >> WriteFile(FileSystems.join(output_dir, REJECTED_FILE)))
    duplicates = (results[_KEYS]
                  | "GroupByContent" >> beam.GroupByKey()
                  | "DuplicateGroups" >> beam.FlatMap(duplicate_groups))
    _ = (duplicates
         | "DuplicateToJson" >> beam.Map(duplicate_json)
         | "WriteDuplicates" >> WriteFile(FileSystems.join(output_dir, DUPLICATES_FILE)))
    ignored_by_reason = dict(collections.Counter(item["reason"] for item in listing.ignored))
    _ = ((results[_OUTCOMES], duplicates | "CountDuplicates" >> beam.Map(duplicate_counts))
         | "AllCounts" >> beam.Flatten()
         | "CountOutcomes" >> beam.CombineGlobally(CountOutcomes())
         | "Summary" >> beam.Map(lambda counts: json.dumps(
             make_summary(counts, settings.classes, ignored_by_reason), indent=2, sort_keys=True))
         | "WriteSummary" >> WriteFile(FileSystems.join(output_dir, SUMMARY_FILE)))


class WriteFile(beam.PTransform):
    """Every line of the collection into one text file, sorted, written whole by one worker."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def expand(self, lines):
        return (lines
                | "Gather" >> beam.combiners.ToList()
                | "Write" >> beam.Map(lambda gathered, path: tfrecord_files.write_lines(path, gathered), self.path))


def prepare(data_root: str, settings: IngestSettings) -> sources.Listing:
    """Check the root, list it, and refuse at once when a class has no candidate photo."""
    sources.check_data_root(data_root, settings.classes)
    listing = sources.list_photos(data_root, settings.classes)
    root = sources.normalize_root(data_root)
    if not listing.photos:
        raise UserError(f"no photo found under {root}: expected {root}/<class>/<photo> with an image extension "
                        f"({', '.join(sorted(sources.IMAGE_EXTENSIONS))}) for classes "
                        f"{', '.join(settings.classes)}; {len(listing.ignored)} path(s) ignored"
                        f"{_examples(listing.ignored)}")
    empty = [label for label, n in listing.per_class(settings.classes).items() if n == 0]
    if empty:
        raise UserError(f"class(es) {', '.join(empty)} have no photo under {root}/<class>/: every configured "
                        f"class needs at least one (or remove it from data.classes)")
    return listing


def finish(output_dir: str, settings: IngestSettings) -> dict:
    """Read the summary the job wrote and fail with one clear message when the data is not usable."""
    summary = read_ingest_summary(output_dir)
    check_summary(summary, settings, lambda: _read_rejects(output_dir))
    return summary


def check_summary(summary: dict, settings: IngestSettings, rejects: typing.Callable[[], list[dict]]) -> None:
    """UserError when no photo was usable, a class or a split ended up empty, or too many were rejected."""
    per_class = {label: sum(summary["written"][name][label] for name in SPLITS)
                 for label in settings.classes}
    seen, rejected = summary["seen"], summary["rejected"]
    reasons = ", ".join(f"{reason}: {n}" for reason, n in summary["rejected_by_reason"].items())
    if sum(per_class.values()) == 0:
        raise UserError(f"no valid photo: all {seen} photo(s) were rejected ({reasons})"
                        f"{_examples(rejects())}")
    empty = [label for label, n in per_class.items() if n == 0]
    if empty:
        raise UserError(f"class(es) {', '.join(empty)} have no valid photo: every one of their photos was "
                        f"rejected{_examples([r for r in rejects() if _class_of(r['path']) in empty])}")
    if rejected > settings.max_rejected_fraction * seen:
        raise UserError(f"{rejected} of {seen} photos ({rejected / seen:.1%}) were rejected, more than "
                        f"max_rejected_fraction={settings.max_rejected_fraction:g} allows "
                        f"(data.max_rejected_fraction, --max-rejected-fraction) ({reasons})"
                        f"{_examples(rejects())}")
    written = {name: sum(summary["written"][name].values()) for name in SPLITS}
    for name in [name for name, n in written.items() if n == 0]:
        raise UserError(f"the {name} split is empty: all {sum(written.values())} written photo(s) went to the "
                        f"other split (byte-identical photos always share a split, so few or duplicated photos can "
                        f"leave one empty); add photos or change data.eval_fraction ({settings.eval_fraction:g})")


def read_ingest_summary(examples_uri: str) -> dict:
    """The ingest_summary.json written beside the splits of an Examples artifact (or an ingest output dir)."""
    return json.loads(read_file(FileSystems.join(examples_uri, SUMMARY_FILE)))


def run_ingest(*, data_root: str, output_dir: str, settings: IngestSettings,
               beam_args: list[str] | None = None) -> dict:
    """The standalone job: the executor's graph on a plain Beam pipeline; returns the summary."""
    _require_fresh_output(output_dir)
    listing = prepare(data_root, settings)
    with beam.Pipeline(options=PipelineOptions(list(beam_args or []))) as pipeline:
        build_graph(pipeline, listing, settings, output_dir)
    return finish(output_dir, settings)


def _require_fresh_output(output_dir: str) -> None:
    """Stale shards of an earlier run would mix with the new ones: refuse rather than delete."""
    if sources.is_remote(output_dir):
        sources.use_anonymous_gcs_if_needed()  # Else this first gs:// call waits ~20 s on credential retries.
    previous = FileSystems.match([FileSystems.join(paths.literal(output_dir), f"{SPLIT_PREFIX}*", "*"),
                                  FileSystems.join(paths.literal(output_dir), SUMMARY_FILE)])
    if any(result.metadata_list for result in previous):
        raise UserError(f"output dir {output_dir} already holds ingest output; choose a new folder or delete it")


def _read_rejects(output_dir: str) -> list[dict]:
    """The rejected (not ignored) entries of the manifest."""
    text = read_file(FileSystems.join(output_dir, REJECTED_FILE)).decode()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [entry for entry in entries if not entry["reason"].startswith("ignored:")]


def _examples(items: list[dict]) -> str:
    """A few `path (reason)` lines, so the message helps even where the manifest is removed with the run."""
    shown = [f"\n  {printable(item['path'])} ({item['reason']})" for item in items[:_EXAMPLES_SHOWN]]
    more = f"\n  ... and {len(items) - _EXAMPLES_SHOWN} more" if len(items) > _EXAMPLES_SHOWN else ""
    return (":" + "".join(shown) + more) if shown else ""


def _class_of(path: str) -> str:
    return path.rstrip("/").split("/")[-2]
