"""collect_run / format_summary / write_report on the gate scenario's ML Metadata, and the `report` command."""

import html.parser
import json
import os

import pytest

from components import artifacts
from components.ingestion import image
from components.report import collect_run, format_summary, write_report
from components.report.html_report import render
from components.report.predictions import sample_predictions
from pipeline import cli
from tests.evaluation import gate_scenario
from tests.report import trainer_records


@pytest.fixture(scope="module")
def record(scenario):
    """The latest run: candidate d blessed against baseline a and pushed as version 2."""
    return collect_run(scenario["metadata_path"], gate_scenario.PIPELINE_NAME, scenario["pipeline_root"])


def test_record_reads_the_latest_run_from_metadata(record, scenario):
    assert [c.node_id for c in record.components][-3:] == ["baseline_resolver", "Evaluator", "AtomicPusher"]
    assert {c.state for c in record.components if c.node_id in ("Evaluator", "AtomicPusher")} == {"ran"}
    assert record.classes == gate_scenario.CLASSES
    assert record.gate.blessed is True
    assert record.gate.accuracy == pytest.approx(1.0) and record.gate.baseline_accuracy == pytest.approx(0.8)
    assert (record.gate.min_accuracy, record.gate.max_accuracy_drop) == pytest.approx((0.5, 0.1))
    assert record.push.pushed and record.push.destination == os.path.join(scenario["serving_dir"], "2")


def test_record_has_ingest_counts_rejects_training_history_and_per_class_figures(record):
    assert (record.data.seen, record.data.rejected, record.data.written_total) == (43, 2, 40)
    assert [r["reason"] for r in record.data.rejected_files] == [image.NOT_AN_IMAGE, image.EMPTY_FILE]
    assert [g["labels"] for g in record.data.duplicate_groups] == [["daisy", "roses"]]
    assert record.training.seconds == 12.5 and record.training.final_metrics["val_accuracy"] == 0.75
    baseline = record.gate.baseline
    assert baseline.per_class["daisy"]["accuracy"] == 0.0  # Model a predicts every daisy as a dandelion.
    assert baseline.per_class["dandelion"]["precision"] == pytest.approx(0.5)
    assert baseline.confusion[0][1] == gate_scenario.PER_CLASS


def test_summary_states_counts_accuracies_decision_and_push(record, scenario):
    text = format_summary(record)
    for expected in ("seen 43", "rejected 2", "12.5 s", "eval accuracy: 1.000", "daisy 1.000",
                     "baseline accuracy: 0.800", "decision:   blessed", os.path.join(scenario["serving_dir"], "2")):
        assert expected in text


def test_refusal_reason_names_the_failed_threshold_with_numbers(scenario):
    """collect_run's reasons, as recorded right after each refused run."""
    text = " ".join(scenario["runs"]["worse_than_baseline"]["reasons"])
    assert "0.600 is 0.200 below the baseline's 0.800" in text and "0.100" in text
    assert "< min_accuracy 0.500" in " ".join(scenario["runs"]["below_floor"]["reasons"])


def test_no_metadata_gives_an_empty_record_and_says_so(tmp_path):
    record = collect_run(str(tmp_path / "none.sqlite"), "flowers", str(tmp_path))
    assert record.run_id == "" and record.gate.decision == "not evaluated"
    assert "no run recorded" in format_summary(record)


class _Assets(html.parser.HTMLParser):
    """Every URL the page would fetch: a self-contained report has only data: URLs."""

    def __init__(self):
        super().__init__()
        self.urls, self.wrong_photos = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [attrs[k] for k in ("src", "href") if k in attrs]
        self.wrong_photos += tag == "div" and attrs.get("class") == "photo wrong"


def test_report_is_one_self_contained_file_with_every_section(record, tmp_path):
    path = write_report(record, str(tmp_path))
    page = open(path, encoding="utf-8").read()
    assets = _Assets()
    assets.feed(page)
    assert assets.urls and all(url.startswith("data:image/jpeg;base64,") for url in assets.urls)
    flagged = len(trainer_records.LABEL_ISSUES) + 2 * len(trainer_records.NEAR_DUPLICATES)  # Model d's Trainer's.
    assert len(assets.urls) == 4 * len(gate_scenario.CLASSES) + flagged  # Every eval photo of the tiny set.
    assert assets.wrong_photos == 0  # Model d is always right.
    for section in ("Gate decision", "Per-class accuracy", "Confusion matrix", "Training", "<svg",
                    "Rejected and ignored files", "roses/broken.jpg", "blessed",
                    "Byte-identical photos (1 group listed, 1 under conflicting labels)", "daisy/twin.jpg",
                    "Likely mislabeled photos", "Near-duplicate photos", "Reliability on the eval split",
                    "Confidence threshold: accuracy against coverage", "Blessed versions (2)",
                    "Eval accuracy of each blessed model"):
        assert section in page


def test_history_lists_every_blessed_model_across_runs_from_metadata(record, scenario):
    """Models a (run first_blessed, version 1) and d (run better, version 2); the cached rerun adds none."""
    assert [(v.accuracy, v.photos, v.pushed, v.version) for v in record.history] == [
        (pytest.approx(0.8), 40, True, "1"), (pytest.approx(1.0), 40, True, "2")]
    assert record.history[-1].run_id == record.run_id
    assert record.history[0].run_id not in (record.run_id, "")
    assert all(v.blessed_at.endswith(" UTC") for v in record.history)


def test_wrong_predictions_are_marked_red(record, scenario):
    run_b = os.path.join(scenario["root"], "models", "b", "run")  # Gets daisy and dandelion wrong.
    predictions = sample_predictions(run_b, record.data.examples_uri, record.classes, count=10)
    assets = _Assets()
    assets.feed(render(record, predictions))
    assert assets.wrong_photos == sum(not p.correct for p in predictions) == 4


def test_report_command_writes_the_report_and_prints_its_path(scenario, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLOWERS_PIPELINE_NAME", gate_scenario.PIPELINE_NAME)
    status = cli.main(["report", "--pipeline-root", scenario["pipeline_root"], "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert status == 0
    assert str(tmp_path / "run_report.html") in printed and "decision:   blessed" in printed
    assert (tmp_path / "run_report.html").exists()


def test_report_command_without_metadata_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["report", "--pipeline-root", str(tmp_path)]) == 1
    assert "run `flowers-pipeline run` first" in capsys.readouterr().err


def test_photo_grid_comes_from_the_trainers_predictions_without_loading_the_model(record, scenario, tmp_path):
    """The Trainer records its eval predictions once; the report reads them and never loads a SavedModel."""
    import dataclasses
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(record.training.run_uri, run_dir)
    (run_dir / artifacts.EVAL_PREDICTIONS_FILE).write_text(json.dumps(
        {f"{name}/{i}.jpg": [(c + 1) % 5, 0.9] for c, name in enumerate(gate_scenario.CLASSES) for i in range(4)}))
    moved = dataclasses.replace(record, training=dataclasses.replace(record.training, run_uri=str(run_dir),
                                                                     model_uri=str(tmp_path / "no-model")))
    assets = _Assets()
    assets.feed(open(write_report(moved, str(tmp_path)), encoding="utf-8").read())
    assert assets.wrong_photos == 4 * len(gate_scenario.CLASSES)  # Every answer read from the edited file.
