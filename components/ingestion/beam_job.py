"""The ingestion Beam graph, shared by the TFX executor and the standalone `flowers-pipeline ingest` job.

listing (driver) -> shards of photos -> WriteShard (each writes its own train and eval file) -> the rejects
manifest, the duplicate groups (byte-identical photos, grouped by content key) and the summary (see `summary`).
The checks around it (`checks`) run in the launching process, so a failure reaches the user as one UserError line
instead of a worker traceback.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import json
import math
import os
import typing

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from components.artifacts import DUPLICATES_FILE, RECORD_PREFIX, REJECTED_FILE, SPLITS, SUMMARY_FILE, split_dir
from components.ingestion import checks, image, records, sources, split, summary, tfrecord_files
from components.ingestion.files import path_bytes, read_photo
from components.ingestion.settings import IngestSettings
_REJECTED = "rejected"
_OUTCOMES = "outcomes"
_KEYS = "keys"
LOCAL_THREADS_PER_CORE = 2
REMOTE_THREADS_PER_CORE = 8  # A GCS read is tens of ms of waiting; decoding it is about 2 ms of CPU.


def shard_count(expected_records: float, records_per_shard: int, max_shards: int) -> int:
    """About records_per_shard per file, at least 2 files when there are 2+ records, at most max_shards."""
    wanted = math.ceil(expected_records / records_per_shard)
    floor = 2 if expected_records >= 2 else 1
    return max(1, min(max_shards, max(wanted, floor)))


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
    """A listed photo that became a record of `split` (what WriteShard does with it is in `process`)."""

    split: str
    label: str
    record: bytes
    path: str
    content_key: str  # Also what decides the split, so byte-identical photos share one.


class WriteShard(beam.DoFn):
    """A Shard -> its train and eval files, written here; outputs its rejections (manifest lines), a Counter of
    outcomes and the (content key, (path as bytes, label)) of every written photo. Bad input becomes a manifest
    entry, never an exception.

    The worker that made the records writes them: no shuffle moves image bytes between workers (Beam's
    file sinks group every record by shard first, which cost ~0.5 ms a photo, a third of its transform).
    Photos become records on a thread pool: file reads, hashing and Pillow's decode and resize release the GIL
    (its JPEG encode does not), so one Beam worker (the in-process DirectRunner included) keeps most of every
    core busy: about 1.7 of 2 measured. Remote reads wait on the network, so they get more threads per core.
    """

    def __init__(self, settings: IngestSettings, threads_per_core: int, output_dir: str):
        self._settings = settings
        self._threads_per_core = threads_per_core
        self._output_dir = output_dir
        self._pool = None

    def setup(self):
        sources.use_anonymous_gcs_if_needed()  # Also in worker processes, which start with an empty cache.
        threads = self._threads_per_core * (os.cpu_count() or 1)  # The worker's cores, not the launcher's.
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="photo")

    def teardown(self):
        if self._pool is not None:
            self._pool.shutdown()

    def process(self, shard: Shard):
        outcomes = collections.Counter()
        with contextlib.ExitStack() as files:
            write = {name: files.enter_context(tfrecord_files.gzip_tfrecord_writer(
                shard_path(self._output_dir, name, shard))) for name in SPLITS}
            for result in self._pool.map(self._process_one, shard.photos):  # In listing order.
                if isinstance(result, Written):
                    write[result.split](result.record)
                    outcomes["written", result.split, result.label] += 1
                    yield beam.pvalue.TaggedOutput(_KEYS, (result.content_key, (path_bytes(result.path), result.label)))
                else:
                    outcomes["rejected", result.reason] += 1
                    yield beam.pvalue.TaggedOutput(_REJECTED, summary.manifest_line(result._asdict()))
        yield beam.pvalue.TaggedOutput(_OUTCOMES, outcomes)

    def _process_one(self, photo: tuple[str, str]) -> Written | summary.Rejection:
        path, label = photo
        try:
            data = read_photo(path, self._settings.max_file_bytes)
            example = photo_to_record(path, label, data, self._settings)
        except image.Rejected as rejected:
            return summary.Rejection.of(path, rejected.reason, rejected.detail)
        except Exception as error:  # A photo no rule foresaw: reported with the error, never a job failure.
            return summary.Rejection.of(path, image.UNEXPECTED, f"{type(error).__name__}: {error}")
        key = split.content_key(data)
        return Written(split.split_for(key, self._settings.eval_fraction), label, example, path, key)


def threads_per_core(listing: sources.Listing) -> int:
    remote = any(sources.is_remote(path) for path, _ in listing.photos[:1])
    return REMOTE_THREADS_PER_CORE if remote else LOCAL_THREADS_PER_CORE


def build_graph(pipeline: beam.Pipeline, listing: sources.Listing, settings: IngestSettings,
                output_dir: str) -> None:
    """The whole job on `pipeline` (the one graph both the executor and run_ingest run): sharded GZIP
    TFRecords per split, the single-file rejects manifest and the summary, under output_dir."""
    results = (pipeline
               | "ListedShards" >> beam.Create(make_shards(listing, settings))  # Reshuffled: spread over workers.
               | "WriteShards" >> beam.ParDo(WriteShard(settings, threads_per_core(listing), output_dir))
               .with_outputs(_REJECTED, _OUTCOMES, _KEYS))
    ignored = pipeline | "IgnoredPaths" >> beam.Create([summary.manifest_line(item) for item in listing.ignored])
    _ = ((results[_REJECTED], ignored)
         | "AllRejects" >> beam.Flatten()
         | "WriteRejects" >> WriteFile(FileSystems.join(output_dir, REJECTED_FILE)))
    duplicates = (results[_KEYS]
                  | "GroupByContent" >> beam.GroupByKey()
                  | "DuplicateGroups" >> beam.FlatMap(summary.duplicate_groups))
    _ = (duplicates
         | "DuplicateToJson" >> beam.Map(summary.duplicate_json)
         | "WriteDuplicates" >> WriteFile(FileSystems.join(output_dir, DUPLICATES_FILE)))
    ignored_by_reason = dict(collections.Counter(item["reason"] for item in listing.ignored))
    _ = ((results[_OUTCOMES], duplicates | "CountDuplicates" >> beam.Map(summary.duplicate_counts))
         | "AllCounts" >> beam.Flatten()
         | "CountOutcomes" >> beam.CombineGlobally(summary.CountOutcomes())
         | "Summary" >> beam.Map(lambda counts: json.dumps(
             summary.make_summary(counts, settings.classes, ignored_by_reason), indent=2, sort_keys=True))
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


def run_ingest(*, data_root: str, output_dir: str, settings: IngestSettings,
               beam_args: list[str] | None = None) -> dict:
    """The standalone job: the executor's graph on a plain Beam pipeline; returns the summary."""
    checks.require_fresh_output(output_dir)
    listing = checks.list_checked_photos(data_root, settings)
    with beam.Pipeline(options=PipelineOptions(list(beam_args or []))) as pipeline:
        build_graph(pipeline, listing, settings, output_dir)
    return checks.read_checked_summary(output_dir, settings)
