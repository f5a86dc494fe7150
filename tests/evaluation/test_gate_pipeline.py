"""The gate in real LocalDagRunner runs (see gate_scenario.RUNS): bless, refuse, cache, compare, push."""

import os

from tests.evaluation.gate_scenario import MAX_ACCURACY_DROP, MIN_ACCURACY


def test_model_below_the_floor_is_not_blessed_and_never_reaches_serving(scenario):
    run = scenario["runs"]["below_floor"]
    assert run["blessed"] is False and run["accuracy"] < MIN_ACCURACY
    assert run["baseline_accuracy"] is None
    assert run["serving"] == [] and run["pushed_to"] == ""


def test_first_accurate_model_is_blessed_without_baseline_and_pushed_as_version_1(scenario):
    run = scenario["runs"]["first_blessed"]
    assert run["blessed"] is True and run["baseline_accuracy"] is None  # The refused model is no baseline.
    assert run["serving"] == ["1"]
    assert run["pushed_to"] == os.path.join(scenario["serving_dir"], "1")
    assert os.path.exists(os.path.join(run["pushed_to"], "saved_model.pb"))


def test_identical_rerun_is_cached_end_to_end_and_pushes_nothing(scenario):
    run = scenario["runs"]["identical_rerun"]
    assert run["components"]["Evaluator"] == "cached"
    assert run["components"]["AtomicPusher"] == "cached"
    assert run["baseline_accuracy"] is None  # The candidate is never its own baseline.
    assert run["serving"] == ["1"]


def test_candidate_worse_than_baseline_by_more_than_the_allowed_drop_is_refused(scenario):
    run = scenario["runs"]["worse_than_baseline"]
    assert run["accuracy"] >= MIN_ACCURACY
    assert run["baseline_accuracy"] - run["accuracy"] > MAX_ACCURACY_DROP
    assert run["blessed"] is False
    assert run["serving"] == ["1"] and run["pushed_to"] == ""


def test_better_candidate_is_compared_with_the_last_blessed_model_and_added_as_version_2(scenario):
    run = scenario["runs"]["better"]
    first = scenario["runs"]["first_blessed"]
    assert run["baseline_accuracy"] == first["accuracy"]  # Baseline: a, the refused b is skipped.
    assert run["blessed"] is True
    assert run["serving"] == ["1", "2"]  # The previous version stays.
    assert run["pushed_to"] == os.path.join(scenario["serving_dir"], "2")
