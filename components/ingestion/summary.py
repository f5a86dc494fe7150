"""The documents the ingestion job writes beside its splits (their names: `components.artifacts`): the rejects
manifest (a line per rejected or ignored path), the duplicate groups (byte-identical photos, grouped by content
key) and the summary (the counts); how their lines and counts are made, and how the summary is read back.
"""

from __future__ import annotations

import collections
import json
import typing

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from components.artifacts import SPLITS, SUMMARY_FILE
from components.ingestion.files import read_file

_MAX_DETAIL_CHARS = 500


class Rejection(typing.NamedTuple):
    """A listed photo that became no record: its rejects manifest entry."""

    path: str
    reason: str  # One of image.REASONS.
    detail: str

    @classmethod
    def of(cls, path: str, reason: str, detail: str) -> "Rejection":
        """The detail cut short: an error message can be as long as the file it quotes."""
        return cls(path, reason, detail[:_MAX_DETAIL_CHARS])


def manifest_line(entry: dict[str, str]) -> str:
    """A rejects manifest line. Entries travel through Beam as this ASCII JSON text: a non-UTF-8 file name
    (decoded with surrogate escapes) is written as \\udcXX, where Beam's string coder would refuse it."""
    return json.dumps(entry)


class CountOutcomes(beam.CombineFn):
    """Sums the Counters of ("written", split, class), ("reused",), ("rejected", reason) and ("duplicates", kind)
    keys."""

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
    """A duplicate groups line; paths written as manifest_line writes them (a non-UTF-8 byte as \\udcXX)."""
    return json.dumps({**group, "paths": [path.decode("utf-8", "surrogateescape") for path in group["paths"]]})


def duplicate_counts(group: dict) -> collections.Counter:
    """A duplicate group's share of the summary's `duplicates` figures."""
    return collections.Counter({("duplicates", "groups"): 1, ("duplicates", "extra_copies"): len(group["paths"]) - 1,
                                ("duplicates", "groups_with_conflicting_labels"): int(len(group["labels"]) > 1)})


def make_summary(counts: dict, classes: typing.Sequence[str], ignored: dict[str, int]) -> dict:
    """The summary document; seen = written + rejected, ignored paths counted apart; `reused` of the written had
    their image from an earlier artifact (incremental ingestion)."""
    written = {name: {label: counts.get(("written", name, label), 0) for label in classes}
               for name in SPLITS}
    by_reason = {key[1]: n for key, n in sorted(counts.items()) if key[0] == "rejected"}
    rejected = sum(by_reason.values())
    return {
        "seen": sum(sum(per_class.values()) for per_class in written.values()) + rejected,
        "written": written,
        "reused": counts.get(("reused",), 0),
        "rejected": rejected,
        "rejected_by_reason": by_reason,
        "ignored": sum(ignored.values()),
        "ignored_by_reason": ignored,
        "duplicates": {kind: counts.get(("duplicates", kind), 0)
                       for kind in ("groups", "extra_copies", "groups_with_conflicting_labels")},
    }


def read_ingest_summary(examples_uri: str) -> dict:
    """The summary written beside the splits of an Examples artifact (or an ingest output dir)."""
    return json.loads(read_file(FileSystems.join(examples_uri, SUMMARY_FILE)))
