"""The whole DAG through `flowers-pipeline run` (LocalDagRunner, SQLite ML Metadata) on tiny generated photos.

One pipeline root is shared by a sequence of runs, as a user's would be: a first run that blesses and pushes,
an identical rerun served from cache, then new photos that re-ingest and are gated against the baseline, then a
dump of one class that the label drift check stops until it is accepted.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from components import artifacts
from components.artifacts import MODEL_CARD_FILE
from components.edge.exporter import export_edge_models
from components.evaluation.results import ModelMetrics
from components.report import collect_run, format_summary
from components.report.collect import edge_summary
from components.text import edge_name, megabytes
from pipeline import cli

pytestmark = pytest.mark.e2e  # Every test here runs the whole DAG under LocalDagRunner.

CLASSES = ("daisy", "roses")
FAST = ["data.classes=" + ",".join(CLASSES), "data.image_size=32", "training.model=squeezenet",
        "training.epochs=2", "training.warmup_epochs=0", "training.batch_size=4"]


def run_cli(root, serving, data_root, *settings: str) -> int:
    """`run` with each FIELD=VALUE setting as --set; items starting with -- are passed as flags."""
    argv = ["run", "--data-root", str(data_root), "--pipeline-root", str(root), "--serving-dir", str(serving)]
    for setting in (*FAST, *settings):
        argv += [setting] if setting.startswith("--") else ["--set", setting]
    return cli.main(argv)


def versions(serving) -> list[str]:
    return sorted(os.listdir(serving)) if os.path.isdir(serving) else []


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("local_run")


@pytest.fixture(scope="module")
def first_run(workspace, make_photo_folder):
    """Learnable tinted photos and an absolute gate of 0: the first run must bless and push (the int8 model too:
    one photo of a handful can flip, so its accuracy check is off here and tested on its own below)."""
    photos = workspace / "photos"
    make_photo_folder(photos, CLASSES, per_class=10)
    root, serving = workspace / "root", workspace / "serving"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        status = run_cli(root, serving, photos, "gate.min_accuracy=0.0", "gate.max_tflite_drop=1.0")
    return photos, root, serving, status, printed.getvalue()


def record_of(root):
    return collect_run(str(root / "metadata.sqlite"), "flowers", str(root))


def test_first_run_blesses_pushes_and_reports(first_run):
    photos, root, serving, status, printed = first_run
    assert status == 0 and printed.splitlines()[-1].startswith("Result: blessed (in service as ")
    record = record_of(root)
    assert record.gate.decision == "blessed"
    assert not record.drift.compared and "label drift: nothing to compare with (no blessed model yet)" in printed
    assert record.push.pushed and versions(serving) == [record.push.version]
    assert record.data.seen == 20 and record.data.written_total == 20
    assert {c.state for c in record.components} == {"ran"}
    assert re.search(r"AtomicPusher\s+done in", printed)  # Progress lines last to the end of the run.
    report = root / "run_report.html"
    assert report.is_file() and "blessed" in report.read_text()


def test_the_pushed_version_carries_both_tflite_models_and_the_labels(first_run):
    photos, root, serving, status, printed = first_run
    record = record_of(root)
    tflite = serving / record.push.version / "tflite"
    assert sorted(os.listdir(tflite)) == ["labels.txt", "model_float16.tflite", "model_int8.tflite"]
    assert (tflite / "labels.txt").read_text().splitlines() == list(CLASSES)
    assert [m.name for m in record.edge.models] == ["saved_model", "float16", "int8"]
    assert record.edge.eval_photos == record.gate.candidate.example_count
    assert record.edge.models[0].accuracy == pytest.approx(record.gate.accuracy)  # The Evaluator's, not re-scored.
    edge_metrics = json.loads(next((root / "EdgeExport").rglob(artifacts.EDGE_METRICS_FILE)).read_text())
    assert edge_metrics["saved_model_scored_by"] == "Evaluator"
    assert record.edge.accepted == ["float16", "int8"]
    assert all(m.accuracy is not None and m.latency_ms > 0 and m.size_bytes > 0 for m in record.edge.models)
    assert "next to the version: float16 TFLite, int8 TFLite and labels.txt" in printed
    assert "Edge models (TFLite)" in (root / "run_report.html").read_text()


def test_the_pushed_version_carries_its_confidence_record_and_label_issues_says_why_there_are_none(first_run,
                                                                                                   capsys):
    photos, root, serving, status, printed = first_run
    version = record_of(root).push.version
    confidence = json.loads((serving / version / artifacts.CONFIDENCE_FILE).read_text())
    assert confidence["target_accuracy"] == 0.95 and confidence["curve"][0][1] == 1.0
    assert cli.main(["label-issues", "--pipeline-root", str(root)]) == 0
    assert "data review was skipped: no cached pooled features" in capsys.readouterr().out  # squeezenet


def test_the_pushed_version_holds_the_runs_own_model_card(first_run):
    photos, root, serving, *_ = first_run
    record = record_of(root)
    card = (serving / record.push.version / MODEL_CARD_FILE).read_text()
    assert f"| run id | {record.run_id} |" in card and f"| pipeline root | {root} |" in card
    assert f"- This model: **{record.gate.accuracy:.3f}** on {int(record.gate.candidate.example_count)} photos" in card
    for model in record.edge.models:
        assert f"| {edge_name(model.name)} | {model.accuracy:.3f} | {megabytes(model.size_bytes)} |" in card
    assert "listing: 20 files, sha256 " in card  # The data fingerprint ingestion keys its cache on.
    assert "| model | squeezenet |" in card and "| daisy | " in card


def test_an_int8_model_too_far_below_the_saved_model_is_not_pushed_and_the_summary_says_why(first_run, tmp_path):
    """A threshold no model can meet (int8 at least 1.0 above the SavedModel) forces the refusal for real."""
    photos, root, serving, *_ = first_run
    record = record_of(root)
    edge_uri = tmp_path / "edge"
    metrics = export_edge_models(str(Path(record.training.model_uri) / "Format-Serving"), record.data.examples_uri,
                                 str(edge_uri), list(CLASSES), max_int8_drop=-1.0, calibration_count=8)
    assert metrics["models"]["int8"]["accepted"] is False and metrics["models"]["float16"]["accepted"] is True
    assert sorted(os.listdir(edge_uri / "push")) == ["labels.txt", "model_float16.tflite"]  # What the pusher copies.
    assert os.listdir(edge_uri / "rejected") == ["model_int8.tflite"]
    record.edge = edge_summary(SimpleNamespace(uri=str(edge_uri)))
    summary = format_summary(record)
    assert "next to the version: float16 TFLite and labels.txt" in summary
    assert re.search(r"int8 TFLite not pushed: accuracy [0-9.]+ is -?[0-9.]+ below the SavedModel's [0-9.]+, more "
                     r"than gate.max_tflite_drop -1.000", summary)


def test_edge_export_scores_the_saved_model_itself_when_the_evaluator_saw_other_records(first_run, tmp_path):
    photos, root, serving, *_ = first_run
    record = record_of(root)
    model_dir = str(Path(record.training.model_uri) / "Format-Serving")
    args = (model_dir, record.data.examples_uri, list(CLASSES))
    figures = {"Evaluator": ModelMetrics(accuracy=0.25, example_count=record.gate.candidate.example_count),
               "EdgeExport": ModelMetrics(accuracy=0.25, example_count=record.gate.candidate.example_count + 1)}
    for scorer, evaluated in figures.items():
        metrics = export_edge_models(args[0], args[1], str(tmp_path / scorer), args[2], max_int8_drop=1.0,
                                     calibration_count=4, evaluated=evaluated)
        assert metrics["saved_model_scored_by"] == scorer
        assert metrics["eval_photos"] == record.gate.candidate.example_count
    assert metrics["models"]["saved_model"]["accuracy"] == pytest.approx(record.gate.accuracy)  # Scored here.


def test_identical_rerun_is_cached_and_pushes_nothing(first_run, capsys):
    photos, root, serving, *_ = first_run
    before = versions(serving)
    assert run_cli(root, serving, photos, "gate.min_accuracy=0.0", "gate.max_tflite_drop=1.0") == 0
    record = record_of(root)
    # Resolvers are never cached (they only query ML Metadata); every component with an executor is, but the
    # drift check, which now has a baseline: the blessed model, trained on these very examples.
    assert {c.node_id: c.state for c in record.components if c.state != "cached"} == {
        "baseline_resolver": "ran", "drift_baseline_resolver": "ran", "LabelDriftCheck": "ran",
        "LabelDriftStop": "ran"}
    assert record.drift.distance == 0.0 and record.drift.before == record.drift.after == {"daisy": 10, "roses": 10}
    assert versions(serving) == before
    printed = capsys.readouterr().out
    assert re.search(r"AtomicPusher\s+cached", printed)
    assert "already in service: nothing new pushed" in printed


def test_moved_photos_reingest_retrain_and_are_gated_against_the_baseline(first_run):
    """Fixing labels by moving 3 photos between class folders: counts, bytes and mtimes stay the same, which
    TFX's fingerprint alone took for unchanged input."""
    photos, root, serving, *_ = first_run
    baseline_version = versions(serving)[-1]
    for i in range(3):
        os.rename(photos / "daisy" / f"photo_{i:03d}.jpg", photos / "roses" / f"moved_{i}.jpg")
    assert run_cli(root, serving, photos, "gate.min_accuracy=0.0", "gate.max_accuracy_drop=1.0") == 0
    record = record_of(root)
    states = {c.node_id: c.state for c in record.components}
    assert states["FileBasedExampleGen"] == "ran" and states["Trainer"] == "ran"
    assert record.data.seen == 20
    assert sum(per_class["roses"] for per_class in record.data.written.values()) == 13
    assert record.gate.baseline is not None and record.gate.baseline_accuracy is not None
    assert record.gate.decision == "blessed"  # Nothing can fail a gate of (0, drop 1.0).
    assert versions(serving)[-2] == baseline_version and len(versions(serving)) == 2


def test_a_dump_of_one_class_stops_before_training_until_accepted(first_run, make_photo, capsys):
    """30 more roses on the 7 daisies and 13 roses the moved-photos run blessed: roses' share moves from 65% to
    86%, past the default 0.15."""
    photos, root, serving, *_ = first_run
    for i in range(30):
        make_photo(photos / "roses" / f"dump_{i}.jpg", tint=1)
    gate = ("gate.min_accuracy=0.0", "gate.max_accuracy_drop=1.0")
    assert run_cli(root, serving, photos, *gate) == 4
    out, err = capsys.readouterr()
    assert "roses: 65.0% -> 86.0% (13 -> 43 photos)" in err and "--accept-drift" in err
    assert out.splitlines()[-1].startswith("Result: stopped (label drift 0.210 is past validation.max_label_drift")
    record = record_of(root)
    states = {c.node_id: c.state for c in record.components}
    assert states["LabelDriftStop"] == "failed" and "Trainer" not in states
    assert record.drift.drifted and "label drift: 0.210 (max 0.15); daisy 35.0% -> 14.0%, roses 65.0% -> 86.0%" in out

    assert run_cli(root, serving, photos, *gate, "--accept-drift") == 0
    record = record_of(root)
    assert {c.node_id: c.state for c in record.components}["Trainer"] == "ran"
    assert record.drift.max_label_drift == 1.0 and record.gate.decision == "blessed"


def test_a_model_below_the_gate_never_reaches_the_serving_dir(workspace, make_photo, capsys):
    """Untinted noise cannot be learnt perfectly, so a gate of 1.0 must refuse the model."""
    photos = workspace / "noise"
    for label in CLASSES:
        for i in range(10):
            make_photo(photos / label / f"noise_{i}.jpg")
    root, serving = workspace / "root_gate", workspace / "serving_gate"
    (serving / "7").mkdir(parents=True)  # A model already in service must stay untouched.
    assert run_cli(root, serving, photos, "gate.min_accuracy=1.0", "training.learning_rate=1e-7") == 3
    record = record_of(root)
    assert record.gate.decision == "not blessed"
    assert any("min_accuracy" in reason for reason in record.gate.reasons)
    assert not record.push.pushed
    assert versions(serving) == ["7"] and os.listdir(serving / "7") == []
    printed = capsys.readouterr().out
    last = printed.splitlines()[-1]
    assert "not blessed" in printed and last.startswith("Result: refused (") and "< min_accuracy 1.000" in last


def test_anomalies_stop_the_pipeline_before_training(workspace, make_photo_folder):
    """A schema whose label domain lacks a class in the data: the validator flags it, nothing is trained."""
    from google.protobuf import text_format
    from tfx import v1 as tfx

    import pipeline_config
    import schemas
    from components.validation import AnomaliesFound
    from pipeline.pipeline import create_pipeline

    photos = workspace / "anomalous"
    make_photo_folder(photos, CLASSES, per_class=4)
    schema_path = workspace / "wrong_schema.pbtxt"
    schema_path.write_text(text_format.MessageToString(schemas.derive(("daisy", "tulips"), 32)))
    root = workspace / "root_anomalies"
    config = pipeline_config.load_config(
        {**pipeline_config.parse_assignments(FAST), "data.data_root": str(photos), "pipeline_root": str(root)},
        environ={})
    dag = create_pipeline(config, schema_file=str(schema_path),
                          metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
                              config.metadata_path))
    with pytest.raises(AnomaliesFound, match="label"):
        tfx.orchestration.LocalDagRunner().run(dag)
    states = {c.node_id: c.state for c in record_of(root).components}
    assert states["AnomalyStop"] == "failed"
    assert states.get("Trainer", "new") == "new"
