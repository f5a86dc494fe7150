"""Every version the gate scenario's real AtomicPusher pushed holds a model_card.md, and its figures are that run's
own: the same accuracies, reasons, counts and ML Metadata ids the run report reads from the same records."""

import os

import pytest

from components.artifacts import MODEL_CARD_FILE
from components.ingestion import image
from components.report import collect_run
from components.report.mlmd_run import RunReader
from tests.evaluation import gate_scenario
from tests.report import trainer_records

SECTIONS = ["## What it is for", "## What it is not for", "## Data", "## Recipe and its settings",
            "## Accuracy on the eval split", "## Calibration and confidence", "## On a phone (TFLite)",
            "## Gate decision", "## Lineage"]


def _card(scenario, version: str) -> str:
    with open(os.path.join(scenario["serving_dir"], version, MODEL_CARD_FILE), encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def record(scenario):
    """The latest run: model d blessed against baseline a and pushed as version 2."""
    return collect_run(scenario["metadata_path"], gate_scenario.PIPELINE_NAME, scenario["pipeline_root"])


def test_every_pushed_version_holds_a_card_with_every_section(scenario):
    assert scenario["runs"]["better"]["serving"] == ["1", "2"]
    for version in ("1", "2"):
        card = _card(scenario, version)
        assert [line for line in card.splitlines() if line.startswith("## ")] == SECTIONS
        assert card.startswith(f"# Model card: {gate_scenario.PIPELINE_NAME} flower classifier")


def test_the_cards_figures_are_the_runs_own(scenario, record):
    card = _card(scenario, "2")
    gate = record.gate
    assert f"- This model: **{gate.accuracy:.3f}** on 20 photos" in card
    assert f"(the baseline): {gate.baseline_accuracy:.3f} on 20 photos" in card
    assert "| daisy | 4 | 1.000 | 1.000 | 1.000 | 0.000 |" in card  # Baseline a calls every daisy a dandelion.
    assert all(f"- {reason}" in card for reason in gate.reasons) and gate.reasons
    assert "**Blessed**: eval accuracy at least 0.500 and at most 0.100 below the baseline's." in card
    assert "| daisy | 4 | 4 |" in card and "| total | 20 | 20 |" in card
    assert f"rejected: 2 ({image.EMPTY_FILE} 1, {image.NOT_AN_IMAGE} 1); ignored (not photos): 1" in card
    assert "1 of them filed under two or more labels" in card
    assert "| model | test |" in card and "2 epochs" in card and "eval accuracy 0.750" in card


def test_the_cards_data_issues_and_calibration_are_the_trainers_files(scenario):
    card = _card(scenario, "2")
    assert "2 across train and eval, 1 within train, 0 within eval" in card
    assert "Label issues found: 3 photos" in card
    assert "- `daisy/2.jpg` (eval): filed as daisy (held-out probability 0.080), looks like roses" in card
    calibration = trainer_records.CALIBRATION
    assert f"{calibration['ece_before']:.3f} before, {calibration['ece_after']:.3f} after" in card
    assert "Confidence threshold: 0.9995 reaches the target accuracy 0.950 on the eval split, answering 85%" in card


def test_the_lineage_names_the_run_its_root_and_the_ids_of_what_it_was_made_of(scenario, record):
    card = _card(scenario, "2")
    assert f"| run id | {record.run_id} |" in card and f"Pushed by run `{record.run_id}`" in card
    assert f"| pipeline root | {scenario['pipeline_root']} |" in card
    reader = RunReader(scenario["metadata_path"])
    [pusher] = [step for step in reader.steps(reader.run(gate_scenario.PIPELINE_NAME, record.run_id))
                if step.node_id == "AtomicPusher"]
    assert set(pusher.inputs) == {"model", "model_blessing", "examples", "model_run", "model_evaluation"}
    for key, artifacts in pusher.inputs.items():
        assert f"| ML Metadata id: {key} | {artifacts[0].id} |" in card


def test_an_older_runs_card_says_what_its_trainer_did_not_record(scenario):
    card = _card(scenario, "1")
    reason = "the Trainer did not record them: a run from before they were computed"
    assert f"- Near-duplicates and label issues: not recorded ({reason})." in card
    assert f"Calibration: not recorded ({reason})." in card
    assert "Confidence threshold: not recorded (the model holds no confidence file)." in card
    assert "(the baseline): none (no earlier blessed model)" in card
    assert "Not recorded: no edge export reached the Pusher." in card
    assert "**Blessed**: eval accuracy at least 0.500; no earlier blessed model, so no baseline to compare with" in card
