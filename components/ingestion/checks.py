"""The checks around the ingestion job, run in the launching process (executor or `ingest` command) so that a
failure reaches the user as one UserError line that says what to fix, instead of a worker traceback. A problem
of the data itself (no photo, an empty class or split, too many rejects) is a RunStopped: found before
training, it stops a run as the data checks do (`stopped`, exit 4).
"""

from __future__ import annotations

import json
import typing

from apache_beam.io.filesystems import FileSystems

from components import paths
from components.artifacts import REJECTED_FILE, SPLIT_PREFIX, SPLITS, SUMMARY_FILE
from components.errors import RunStopped, UserError, printable
from components.ingestion import sources
from components.ingestion.files import read_file
from components.ingestion.settings import IngestSettings
from components.ingestion.summary import read_ingest_summary

_EXAMPLES_SHOWN = 5


def list_checked_photos(data_root: str, settings: IngestSettings) -> sources.Listing:
    """Check the root, list it, and refuse at once when a class has no candidate photo."""
    sources.check_data_root(data_root, settings.classes)
    listing = sources.list_photos(data_root, settings.classes)
    root = sources.normalize_root(data_root)
    if not listing.photos:
        raise RunStopped(f"no photo found under {root}: expected {root}/<class>/<photo> with an image extension "
                        f"({', '.join(sorted(sources.IMAGE_EXTENSIONS))}) for classes "
                        f"{', '.join(settings.classes)}; {len(listing.ignored)} path(s) ignored"
                        f"{_examples(listing.ignored)}")
    empty = [label for label, n in listing.per_class(settings.classes).items() if n == 0]
    if empty:
        raise RunStopped(f"class(es) {', '.join(empty)} have no photo under {root}/<class>/: every configured "
                        f"class needs at least one (or remove it from data.classes)")
    return listing


def read_checked_summary(output_dir: str, settings: IngestSettings) -> dict:
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
        raise RunStopped(f"no valid photo: all {seen} photo(s) were rejected ({reasons})"
                        f"{_examples(rejects())}")
    empty = [label for label, n in per_class.items() if n == 0]
    if empty:
        raise RunStopped(f"class(es) {', '.join(empty)} have no valid photo: every one of their photos was "
                        f"rejected{_examples([r for r in rejects() if _class_of(r['path']) in empty])}")
    if rejected > settings.max_rejected_fraction * seen:
        raise RunStopped(f"{rejected} of {seen} photos ({rejected / seen:.1%}) were rejected, more than "
                        f"max_rejected_fraction={settings.max_rejected_fraction:g} allows "
                        f"(data.max_rejected_fraction, --max-rejected-fraction) ({reasons})"
                        f"{_examples(rejects())}")
    written = {name: sum(summary["written"][name].values()) for name in SPLITS}
    for name in [name for name, n in written.items() if n == 0]:
        raise RunStopped(f"the {name} split is empty: all {sum(written.values())} written photo(s) went to the "
                        f"other split (byte-identical photos always share a split, so few or duplicated photos can "
                        f"leave one empty); add photos or change data.eval_fraction ({settings.eval_fraction:g})")


def require_fresh_output(output_dir: str) -> None:
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
