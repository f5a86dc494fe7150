"""The label drift comparison: shares, L-infinity distance, the stop's message, and reading StatisticsGen's
histograms. The threshold is the shipped default, checked against the retrainings it must let through or stop."""

import os

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from components import artifacts
from components.validation import LabelDrift, LabelDriftFound, check_label_drift
from components.validation.label_drift import describe, histogram, label_counts
from pipeline_config import ValidationConfig

DEFAULT = ValidationConfig().max_label_drift
SIX_HUNDRED = {"daisy": 120, "dandelion": 120, "roses": 120, "sunflowers": 120, "tulips": 120}


def with_added(counts, **added):
    return {label: n + added.get(label, 0) for label, n in counts.items()}


def test_three_hundred_dandelions_on_six_hundred_photos_stop_the_run_naming_the_shift():
    drift = LabelDrift(DEFAULT, after=with_added(SIX_HUNDRED, dandelion=300), before=SIX_HUNDRED,
                       baseline_uri="/mlmd/statistics/7")
    assert drift.distance == pytest.approx(420 / 900 - 0.2)
    with pytest.raises(LabelDriftFound) as stopped:
        check_label_drift(drift)
    message = str(stopped.value)
    assert "label drift 0.267 is past validation.max_label_drift=0.15" in message
    assert "dandelion: 20.0% -> 46.7% (120 -> 420 photos)" in message
    assert "--accept-drift" in message and "--set validation.max_label_drift=1" in message
    assert "/mlmd/statistics/7" in message


@pytest.mark.parametrize("added", [
    {"daisy": 20, "dandelion": 20, "roses": 20, "sunflowers": 20, "tulips": 20},
    {"daisy": 35, "dandelion": 5, "roses": 30, "sunflowers": 10, "tulips": 20},  # Unevenly spread.
    {"roses": 100},  # A one-class batch of a sixth of the data: 0.114.
])
def test_a_normal_retraining_passes_the_default(added):
    drift = LabelDrift(DEFAULT, after=with_added(SIX_HUNDRED, **added), before=SIX_HUNDRED)
    assert drift.distance < DEFAULT and not drift.drifted
    check_label_drift(drift)


def test_an_emptied_class_is_drift():
    after = {**SIX_HUNDRED, "tulips": 0}
    drift = LabelDrift(DEFAULT, after=after, before=SIX_HUNDRED)
    assert drift.distance == pytest.approx(0.2) and drift.drifted  # tulips 20% -> 0%; the others 20% -> 25%.
    assert drift.share("daisy", "after") == pytest.approx(0.25)


def test_a_threshold_of_one_accepts_any_shift():
    drift = LabelDrift(1.0, after={"daisy": 10, "roses": 0}, before={"daisy": 0, "roses": 10})
    assert drift.distance == 1.0 and not drift.drifted
    check_label_drift(drift)


def test_first_run_has_nothing_to_compare_with():
    drift = LabelDrift(DEFAULT, after=SIX_HUNDRED)
    assert not drift.compared and drift.distance is None and not drift.drifted
    assert describe(drift) == "nothing to compare with (no blessed model yet)"
    check_label_drift(drift)


def test_describe_lists_the_biggest_changes_first_and_round_trips_through_json():
    drift = LabelDrift(DEFAULT, after=with_added(SIX_HUNDRED, roses=100), before=SIX_HUNDRED, baseline_uri="/s")
    assert describe(drift).startswith("0.114 (max 0.15); roses 20.0% -> 31.4%, daisy 20.0% -> 17.1%")
    assert LabelDrift.from_json(drift.to_json()) == drift


def _statistics(buckets=None, top_values=None):
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    feature = stats.datasets.add().features.add()
    feature.path.step.append("label")
    for label, n in (buckets or {}).items():
        feature.string_stats.rank_histogram.buckets.add(label=label, sample_count=n)
    for label, n in (top_values or {}).items():
        feature.string_stats.top_values.add(value=label, frequency=n)
    return stats


def test_histogram_reads_the_rank_histogram_or_else_the_top_values():
    assert histogram(_statistics(buckets={"daisy": 3, "roses": 5}), "label") == {"daisy": 3, "roses": 5}
    assert histogram(_statistics(top_values={"daisy": 2.0}), "label") == {"daisy": 2}
    assert histogram(_statistics(buckets={"daisy": 3}), "source") == {}


def test_label_counts_add_up_every_split(tmp_path):
    for split, counts in (("train", {"daisy": 8, "roses": 6}), ("eval", {"daisy": 2, "roses": 1})):
        os.makedirs(artifacts.split_dir(str(tmp_path), split))
        with open(os.path.join(artifacts.split_dir(str(tmp_path), split), artifacts.STATISTICS_FILE), "wb") as f:
            f.write(_statistics(buckets=counts).SerializeToString())
    assert label_counts(str(tmp_path), ["train", "eval"]) == {"daisy": 10, "roses": 7}
