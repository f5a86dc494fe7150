"""The ingestion Beam graph, shared by the TFX executor and the standalone `flowers-pipeline ingest` job.

listing (driver) -> shards of photos [-> each with the images an earlier artifact has for them (`reuse`)] ->
WriteShard (each writes its own train and eval file) -> the rejects manifest, the duplicate groups (byte-identical
photos, grouped by content key) and the summary (see `summary`).
The checks around it (`checks`) run in the launching process, so a failure reaches the user as one UserError line
instead of a worker traceback.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import hashlib
import json
import math
import typing
import zlib

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from components.artifacts import DUPLICATES_FILE, REJECTED_FILE, SPLITS, SUMMARY_FILE, record_file, split_dir
from components.ingestion import checks, image, records, reuse, sources, split, summary, tfrecord_files
from components.ingestion.files import path_bytes, photo_stamp, read_photo
from components.ingestion.pool import PhotoPoolDoFn, threads_per_core
from components.ingestion.settings import IngestSettings

_REJECTED = "rejected"
_OUTCOMES = "outcomes"
_KEYS = "keys"


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
    """A unit of work: the listed photos that become the index-th of count files of each split."""

    index: int
    count: int
    photos: list[tuple[str, str]]


def make_shards(listing: sources.Listing, settings: IngestSettings) -> list[Shard]:
    """Photos spread over the shards by their path (`shard_of`), in listing order within each: every file mixes
    the classes, and a photo keeps its shard while the folder grows, so an incremental run copies most records
    from the earlier file of the same index."""
    count = shard_count(len(listing.photos), settings.records_per_shard, settings.max_shards)
    members = [[] for _ in range(count)]
    for photo in listing.photos:
        members[shard_of(photo[0], count)].append(photo)
    return [Shard(index, count, photos) for index, photos in enumerate(members)]


def pack_shard(shard: Shard) -> bytes:
    """A shard as compressed JSON, the form the listing takes in the job graph: Beam pickles a Create's values
    into the graph several times while building and starting it, bz2 at level 9 each time, which took about 1 s
    for 32,000 listed paths; packed, the graph holds a tenth of those bytes."""
    return zlib.compress(json.dumps([shard.index, shard.count, shard.photos]).encode(), 1)


def unpack_shard(packed: bytes) -> Shard:
    index, count, photos = json.loads(zlib.decompress(packed))
    return Shard(index, count, [(path, label) for path, label in photos])


def shard_of(path: str, count: int) -> int:
    """Jump consistent hash (Lamping and Veach, 2014) of the path's SHA-256: stable across runs and machines, and
    when the shard count grows by one, only the photos that fill the new shard move."""
    key, bucket, jump = int.from_bytes(hashlib.sha256(path_bytes(path)).digest()[:8], "big"), -1, 0
    while jump < count:
        bucket = jump
        key = (key * 2862933555777941757 + 1) % 2**64
        jump = int((bucket + 1) * (2**31 / ((key >> 33) + 1)))
    return bucket


def shard_path(output_dir: str, split_name: str, shard: Shard) -> str:
    return FileSystems.join(split_dir(output_dir, split_name), record_file(shard.index, shard.count))


class Written(typing.NamedTuple):
    """A listed photo that became a record of `split` (what WriteShard does with it is in `process`)."""

    split: str
    label: str
    record: bytes
    path: str
    content_key: str  # Also what decides the split, so byte-identical photos share one.
    stamp: str | None  # files.photo_stamp, taken before the photo was read.
    reused: bool  # Its image came from an earlier artifact.
    earlier: tfrecord_files.StoredRecord | None = None  # The earlier record it is, when reused whole.


class WriteShard(PhotoPoolDoFn):
    """A (Shard, [reuse.Reused, ...], its reuse.MatchShard matches) -> its train and eval files and their reuse
    indexes, written here; outputs
    its rejections (manifest lines), a Counter of outcomes and the (content key, (path as bytes, label)) of every
    written photo. Bad input becomes a manifest entry, never an exception. A reused image is not read or decoded.

    The worker that made the records writes them: no shuffle moves new image bytes between workers (Beam's
    file sinks group every record by shard first, which cost ~0.5 ms a photo, a third of its transform); only
    reused images travel, through the joins of `reuse`.
    New photos become records on the worker's thread pool (`pool`).
    """

    def __init__(self, settings: IngestSettings, threads_per_core: int, output_dir: str):
        super().__init__(threads_per_core)
        self._settings = settings
        self._output_dir = output_dir
        self._writer = None
        self._writing = None

    def setup(self):
        super().setup()
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="write")
        self._writing = None

    def process(self, shard_and_reused: tuple[Shard, list[reuse.Reused], dict]):
        shard, reused, local = shard_and_reused
        reused_at = {item.position: item for item in (*reused, *reuse.local_reused(local))}
        outcomes, written = collections.Counter(), []
        for result in self._results(shard.photos, reused_at):
            if isinstance(result, Written):
                written.append(result)
                outcomes["written", result.split, result.label] += 1
                outcomes[("reused",)] += result.reused
                yield beam.pvalue.TaggedOutput(_KEYS, (result.content_key, (path_bytes(result.path), result.label)))
            else:
                outcomes["rejected", result.reason] += 1
                yield beam.pvalue.TaggedOutput(_REJECTED, summary.manifest_line(result._asdict()))
        self._wait_for_writes()  # At most one shard's records wait to be written.
        self._writing = self._writer.submit(self._write_files, shard, written)
        yield beam.pvalue.TaggedOutput(_OUTCOMES, outcomes)

    def finish_bundle(self):
        self._wait_for_writes()

    def teardown(self):
        if self._writer is not None:
            self._writer.shutdown()
        super().teardown()

    def _wait_for_writes(self) -> None:
        """Waits for the shard being written (re-raising its failure, which fails the bundle)."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def _write_files(self, shard: Shard, written: list[Written]) -> None:
        """The shard's file of each split and their reuse indexes. On the writer thread: writing the records of a
        shard whose images are all reused (the copy and its GZIP CRC-32) takes about as long as making them, so
        the next shard is made meanwhile."""
        digest = reuse.encoding_digest(self._settings)
        with contextlib.ExitStack() as files:
            write = {name: files.enter_context(tfrecord_files.gzip_tfrecord_writer(
                shard_path(self._output_dir, name, shard))) for name in SPLITS}
            index = {name: files.enter_context(tfrecord_files.line_writer(
                reuse.index_path(self._output_dir, name, record_file(shard.index, shard.count)))) for name in SPLITS}
            for result in written:
                if result.earlier is None:
                    write[result.split].write(result.record)
                else:
                    write[result.split].copy(result.earlier)
                index[result.split](reuse.index_line(reuse.IndexEntry(
                    reuse.reuse_key(result.content_key, digest), result.stamp, result.path)))

    def _results(self, photos: list[tuple[str, str]], reused_at: dict[int, reuse.Reused]):
        """Each photo's Written or Rejection, in listing order: a reused image's record is rebuilt here (less work
        than handing it to a thread), the other photos are decoded on the pool meanwhile."""
        decoded = self.pool.map(self._decode, [photo for position, photo in enumerate(photos)
                                               if position not in reused_at])
        for position, photo in enumerate(photos):
            yield self._reuse(photo, reused_at[position]) if position in reused_at else next(decoded)

    def _reuse(self, photo: tuple[str, str], reused: reuse.Reused) -> Written:
        path, label = photo
        earlier = reused.earlier.record
        record = records.reuse_record(earlier, class_id=self._settings.classes.index(label), label=label,
                                      image_size=self._settings.image_size, source=path_bytes(path))
        written = self._written(path, label, record, reused.content_key, reused.stamp, reused=True)
        return written._replace(earlier=reused.earlier) if record is earlier else written

    def _decode(self, photo: tuple[str, str]) -> Written | summary.Rejection:
        path, label = photo
        stamp = photo_stamp(path)
        try:
            data = read_photo(path, self._settings.max_file_bytes)
            example = photo_to_record(path, label, data, self._settings)
        except image.Rejected as rejected:
            return summary.Rejection.of(path, rejected.reason, rejected.detail)
        except Exception as error:  # A photo no rule foresaw: reported with the error, never a job failure.
            return summary.Rejection.of(path, image.UNEXPECTED, f"{type(error).__name__}: {error}")
        return self._written(path, label, example, split.content_key(data), stamp, reused=False)

    def _written(self, path: str, label: str, record: bytes, key: str, stamp: str | None, reused: bool) -> Written:
        return Written(split.split_for(key, self._settings.eval_fraction), label, record, path, key, stamp, reused)


def build_graph(pipeline: beam.Pipeline, listing: sources.Listing, settings: IngestSettings,
                output_dir: str, previous_dir: str | None = None) -> None:
    """The whole job on `pipeline` (the one graph both the executor and run_ingest run): sharded GZIP
    TFRecords per split with their reuse indexes, the single-file rejects manifest and the summary, under
    output_dir. With previous_dir (an earlier output, only read), its images are reused where they can be: the
    output is the same as without it, but for the summary's `reused` count."""
    threads = threads_per_core(listing)
    shards = (pipeline
              | "ListedShards" >> beam.Create([pack_shard(shard) for shard in make_shards(listing, settings)])
              | "UnpackShards" >> beam.Map(unpack_shard))  # Create reshuffles them over the workers.
    if previous_dir:
        to_write = shards | "PairWithReusable" >> reuse.PairWithReusable(settings, threads, previous_dir)
    else:
        to_write = shards | "NothingReused" >> beam.Map(lambda shard: (shard, [], {}))
    results = (to_write
               | "WriteShards" >> beam.ParDo(WriteShard(settings, threads, output_dir))
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
               beam_args: list[str] | None = None, previous_dir: str | None = None) -> dict:
    """The standalone job: the executor's graph on a plain Beam pipeline; returns the summary."""
    checks.require_fresh_output(output_dir)
    listing = checks.list_checked_photos(data_root, settings)
    with beam.Pipeline(options=PipelineOptions(list(beam_args or []))) as pipeline:
        build_graph(pipeline, listing, settings, output_dir, previous_dir)
    return checks.read_checked_summary(output_dir, settings)
