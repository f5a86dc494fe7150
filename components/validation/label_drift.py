"""Stop before training when this run's label mix differs from what the model in service learnt from.

ExampleValidator checks one run's data against the curated schema only, so a dump of one class or an emptied
folder goes straight to training. Here the label shares of every photo of this run are compared with those of the
examples the latest blessed model was trained on (the label mix `LabelDriftBaseline` recorded when that model was
blessed, see drift_baseline.py) as an L-infinity distance: the largest change of any one class's share, the
measure of TFDV's `infinity_norm` drift comparator. It is computed here from StatisticsGen's label histograms
because TFDV compares one split at a time: the training photos the model learns from are all the splits'
together, and a hundred-photo eval split alone moves by a few points with every photo added.

Two nodes check, like ExampleValidator and AnomalyStop: `LabelDriftCheck` records the comparison (so the summary
and the report show it on every run, a stopped one too) and `LabelDriftStop` fails the run when it is past the
threshold. A third, `LabelDriftBaseline`, records the label mix of a run whose model was blessed, for the runs
after it.
"""


import dataclasses
import json
import os
from typing import Optional

from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.experimental import simple_artifacts

from components.artifacts import LABEL_FEATURE, LABEL_MIX_FILE, STATISTICS_FILE, split_dir
from components.errors import RunStopped

ACCEPT_FLAG = "--accept-drift"
ACCEPT_SETTING = "--set validation.max_label_drift=1"
NO_BLESSED_MODEL = "no blessed model yet"
BASELINE_TYPE = simple_artifacts.Statistics  # A standard type no other node writes (why: drift_baseline.py).


class LabelDriftFound(RunStopped):
    """The label mix moved past validation.max_label_drift; the message names the classes and the way through."""


@dataclasses.dataclass
class LabelDrift:
    """One comparison: photo counts per label before (baseline's training data) and after (this run)."""

    max_label_drift: float
    after: dict[str, int]
    before: Optional[dict[str, int]] = None  # None: nothing to compare with.
    baseline_uri: str = ""  # The baseline's ExampleStatistics.

    @property
    def compared(self) -> bool:
        return self.before is not None

    @property
    def labels(self) -> list[str]:
        return sorted(set(self.after) | set(self.before or {}))

    def share(self, label: str, when: str) -> float:
        counts = self.before if when == "before" else self.after
        total = sum((counts or {}).values())
        return (counts or {}).get(label, 0) / total if total else 0.0

    def change(self, label: str) -> float:
        return self.share(label, "after") - self.share(label, "before")

    @property
    def distance(self) -> Optional[float]:
        """L-infinity distance of the two label distributions; None when not compared."""
        if not self.compared:
            return None
        return max((abs(self.change(label)) for label in self.labels), default=0.0)

    @property
    def drifted(self) -> bool:
        return self.compared and self.distance > self.max_label_drift + 1e-12

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LabelDrift":
        """Also reads the records of earlier versions, which carried a `no_baseline_reason` field."""
        fields = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in json.loads(text).items() if key in fields})


def label_counts(statistics_uri: str, split_names: list[str]) -> dict[str, int]:
    """Photos per label over every split of an ExampleStatistics artifact."""
    counts: dict[str, int] = {}
    for split_name in split_names:
        path = os.path.join(split_dir(statistics_uri, split_name), STATISTICS_FILE)
        with tfx.dsl.io.fileio.open(path, "rb") as handle:
            stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(handle.read())
        for label, n in histogram(stats, LABEL_FEATURE).items():
            counts[label] = counts.get(label, 0) + n
    return counts


def histogram(stats: statistics_pb2.DatasetFeatureStatisticsList, feature_name: str) -> dict[str, int]:
    """Value -> count of a string feature: its rank histogram (every value), else its top values."""
    for dataset in stats.datasets[:1]:  # The default slice: all examples.
        for feature in dataset.features:
            if feature.name == feature_name or list(feature.path.step) == [feature_name]:
                string_stats = feature.string_stats
                buckets = string_stats.rank_histogram.buckets or string_stats.top_values
                return {_bucket_label(b): int(round(_bucket_count(b))) for b in buckets}
    return {}


def describe(drift: LabelDrift) -> str:
    """One line: the distance against the threshold and each class's share before -> after."""
    if not drift.compared:
        return f"nothing to compare with ({NO_BLESSED_MODEL})"
    shares = ", ".join(f"{label} {drift.share(label, 'before'):.1%} -> {drift.share(label, 'after'):.1%}"
                       for label in _by_change(drift))
    return f"{drift.distance:.3f} (max {drift.max_label_drift:g}); {shares}"


def check_label_drift(drift: LabelDrift) -> None:
    """Raise LabelDriftFound naming the classes that moved most and how to accept the shift for one run."""
    if not drift.drifted:
        return
    moved = [label for label in _by_change(drift) if abs(drift.change(label)) > drift.max_label_drift / 2]
    lines = [f"{label}: {drift.share(label, 'before'):.1%} -> {drift.share(label, 'after'):.1%} "
             f"({drift.before.get(label, 0)} -> {drift.after.get(label, 0)} photos)" for label in moved]
    raise LabelDriftFound(
        f"label drift {drift.distance:.3f} is past validation.max_label_drift={drift.max_label_drift:g}, "
        f"stopping before training: this run's photos are not the mix the model in service was trained on:\n  "
        + "\n  ".join(lines)
        + f"\nIf the new mix is intended, let this one run through with {ACCEPT_FLAG} ({ACCEPT_SETTING}); "
          f"later runs compare with the model it blesses. Baseline statistics: {drift.baseline_uri}")


def _by_change(drift: LabelDrift) -> list[str]:
    return sorted(drift.labels, key=lambda label: (-abs(drift.change(label)), label))


def _bucket_label(bucket) -> str:
    return bucket.label if hasattr(bucket, "label") else bucket.value


def _bucket_count(bucket) -> float:
    return bucket.sample_count if hasattr(bucket, "sample_count") else bucket.frequency


def _splits(artifact) -> list[str]:
    return artifact_utils.decode_split_names(artifact.split_names)


def write_label_mix(uri: str, counts: dict[str, int], statistics_uri: str) -> None:
    """The drift baseline's file: photos per label and the ExampleStatistics they were counted from."""
    tfx.dsl.io.fileio.makedirs(uri)
    with tfx.dsl.io.fileio.open(os.path.join(uri, LABEL_MIX_FILE), "w") as handle:
        handle.write(json.dumps({"counts": counts, "statistics_uri": statistics_uri}, sort_keys=True))


def read_label_mix(uri: str) -> tuple[dict[str, int], str]:
    """(photos per label, statistics URI) from a file `write_label_mix` wrote."""
    with tfx.dsl.io.fileio.open(os.path.join(uri, LABEL_MIX_FILE), "r") as handle:
        recorded = json.loads(handle.read())
    return recorded["counts"], recorded["statistics_uri"]


@tfx.dsl.components.component
def LabelDriftCheck(  # noqa: N802
        statistics: tfx.dsl.components.InputArtifact[standard_artifacts.ExampleStatistics],
        max_label_drift: tfx.dsl.components.Parameter[float],
        baseline: tfx.dsl.components.InputArtifact[BASELINE_TYPE] = None,
) -> tfx.dsl.components.OutputDict(comparison=str):
    """Records this run's label counts beside the baseline's (none on a first run) as LabelDrift JSON."""
    before, baseline_uri = read_label_mix(baseline.uri) if baseline else (None, "")
    drift = LabelDrift(max_label_drift=max_label_drift, after=label_counts(statistics.uri, _splits(statistics)),
                       before=before, baseline_uri=baseline_uri)
    return {"comparison": drift.to_json()}


@tfx.dsl.components.component
def LabelDriftStop(  # noqa: N802
        comparison: tfx.dsl.components.InputArtifact[standard_artifacts.String]) -> None:
    """Fails the run (LabelDriftFound, a RunStopped) when the recorded comparison is past its threshold."""
    comparison.read()
    check_label_drift(LabelDrift.from_json(comparison.value))


@tfx.dsl.components.component
def LabelDriftBaseline(  # noqa: N802
        statistics: tfx.dsl.components.InputArtifact[standard_artifacts.ExampleStatistics],
        baseline: tfx.dsl.components.OutputArtifact[BASELINE_TYPE]) -> None:
    """Records the label counts of the examples a blessed model was trained on: the next runs' drift baseline."""
    write_label_mix(baseline.uri, label_counts(statistics.uri, _splits(statistics)), statistics.uri)
