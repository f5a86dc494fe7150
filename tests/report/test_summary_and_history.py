"""Pure parts of the report: the summary of runs that stopped early, and reading the Trainer's history."""

from components.ingestion import image
from components.report import format_summary
from components.report.collect import history_details, parse_epochs
from components.report.record import ComponentRun, DataSummary, EdgeModelFigures, EdgeSummary, RunRecord


def _stopped_record() -> RunRecord:
    return RunRecord(pipeline_name="flowers", pipeline_root="/r", run_id="run-1",
                     components=[ComponentRun("FileBasedExampleGen", "ran"), ComponentRun("Trainer", "failed")],
                     data=DataSummary(examples_uri="/r/e", seen=10, written={"train": {"a": 6}, "eval": {"a": 2}},
                                      rejected=2, rejected_by_reason={image.NOT_AN_IMAGE: 2},
                                      duplicates={"groups": 1, "extra_copies": 2, "groups_with_conflicting_labels": 1}))


def test_summary_of_a_run_that_stopped_before_the_evaluator():
    text = format_summary(_stopped_record())
    assert "Trainer failed" in text
    assert (f"seen 10, written 8 (train 6, eval 2), rejected 2 ({image.NOT_AN_IMAGE} 2), 2 byte-identical copies "
            "(1 under two or more labels)") in text
    assert "not trained in this run" in text
    assert "decision:   not evaluated (failed: Trainer)" in text
    assert "pushed:     not pushed" in text


def test_summary_without_an_edge_export_has_no_tflite_line_and_a_skipped_one_says_why():
    record = _stopped_record()
    assert "tflite:" not in format_summary(record)
    record.edge = EdgeSummary(status="skipped", reason="model not blessed")
    assert "  tflite:     skipped: model not blessed" in format_summary(record)


def test_summary_of_an_int8_model_that_failed_to_convert():
    record = _stopped_record()
    record.edge = EdgeSummary(status="exported", eval_photos=4, models=[
        EdgeModelFigures("saved_model", 0.75, 2_000_000, 9.0),
        EdgeModelFigures("float16", 0.75, 1_000_000, 3.0, accepted=True),
        EdgeModelFigures("int8", accepted=False, reason="conversion failed: ConverterError: op not supported")])
    text = format_summary(record)
    assert "eval accuracy on 4 photos: SavedModel 0.750, float16 TFLite 0.750\n" in text
    assert "size: SavedModel 2.0 MB, float16 TFLite 1.0 MB; one photo on 1 CPU thread: SavedModel 9.0 ms" in text
    assert "next to the version: float16 TFLite and labels.txt" in text
    assert "int8 TFLite not pushed: conversion failed: ConverterError: op not supported" in text


def test_history_in_the_trainer_format():
    history = {"model": "squeezenet", "params": 120613, "wall_seconds": 9.5, "replicas": 1,
               "epochs": [{"epoch": 1, "loss": 1.5, "val_accuracy": 0.4}, {"epoch": 2, "loss": 1.1}]}
    assert parse_epochs(history) == [{"epoch": 1.0, "loss": 1.5, "val_accuracy": 0.4}, {"epoch": 2.0, "loss": 1.1}]
    assert history_details(history) == {"model": "squeezenet", "params": 120613, "wall_seconds": 9.5, "replicas": 1}


def test_a_missing_history_reads_as_none_recorded():
    assert parse_epochs({}) == [] and history_details({}) == {}


def test_a_killed_run_reads_interrupted_not_running():
    record = _stopped_record()
    record.components[-1] = ComponentRun("Trainer", "interrupted")
    text = format_summary(record)
    assert "Trainer interrupted" in text and "running" not in text
    assert "decision:   not evaluated (interrupted: Trainer)" in text


def test_a_push_of_a_model_already_in_service_says_so():
    from components.report.record import PushResult

    record = _stopped_record()
    record.push = PushResult(pushed=True, destination="/s/3", version="3", already_served=True)
    assert "pushed:     /s/3 (version 3, already in service: nothing new pushed)" in format_summary(record)
    record.push.already_served = False
    assert "pushed:     /s/3 (version 3)" in format_summary(record)
