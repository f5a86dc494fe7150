"""collect_run: the latest run of a pipeline, read from ML Metadata and the artifacts it points to (not logs)."""

from __future__ import annotations

import datetime
import os
from typing import Any, Optional

from tfx.types.standard_component_specs import EVALUATION_KEY, EXAMPLES_KEY
from tfx.utils import path_utils

from components import json_files
from components import model_run as model_run_files
from components.artifacts import (ALREADY_SERVED_PROPERTY, BLESSED_PROPERTY, DUPLICATES_FILE,
                                  EDGE_MODEL_FORMER_TYPES, EDGE_MODEL_TYPE, NOT_PUSHED_REASON_PROPERTY,
                                  PUSHED_DESTINATION_PROPERTY, PUSHED_PROPERTY, PUSHED_VERSION_PROPERTY,
                                  REJECTED_FILE, SUMMARY_FILE)
from components.edge import layout as edge_layout
from components.evaluation import results
from components.report import examples_io
from components.report.mlmd_run import RunReader, Step
from components.report.record import (BlessedVersion, ComponentRun, DataSummary, EdgeModelFigures, EdgeSummary,
                                      GateResult, PushResult, RunRecord, TrainingSummary)
from components.validation.label_drift import LabelDrift

MAX_REJECTED_FILES = 200
_TIME_KEY = "wall_seconds"  # The Trainer's whole run_fn, as progress.write_history records it.
_DRIFT_KEY = "comparison"  # LabelDriftCheck's output.


def collect_run(metadata_path: str, pipeline_name: str, pipeline_root: str, run_id: str | None = None,
                in_progress: bool = False) -> RunRecord:
    """Everything the summary and the report show about one run (`run_id`, else the pipeline's latest); empty
    if there is none. Unless the run is `in_progress`, a step still marked running died with its process."""
    record = RunRecord(pipeline_name=pipeline_name, pipeline_root=pipeline_root)
    reader = RunReader.open(metadata_path)
    run = (reader.run(pipeline_name, run_id) if run_id else reader.latest_run(pipeline_name)) if reader else None
    if run is None:
        return record
    steps = reader.steps(run)
    record.run_id = run.name
    record.components = [ComponentRun(s.node_id, _live_state(s.state, in_progress), round(s.seconds, 3))
                         for s in steps]
    examples = _last_output(reader, steps, "Examples")
    record.data = data_summary(examples)
    record.classes = examples_io.class_names(examples.uri) if examples else []
    record.drift = label_drift(steps)
    record.training = training_summary(reader, steps)
    record.gate = gate_result(reader, steps, record.classes)
    record.edge = edge_summary(_last_output(reader, steps, EDGE_MODEL_TYPE, *EDGE_MODEL_FORMER_TYPES))
    record.push = push_result(_last_output(reader, steps, "PushedModel"))
    record.history = version_history(reader, pipeline_name, record.classes)
    return record


def _live_state(state: str, in_progress: bool) -> str:
    return "interrupted" if state == "running" and not in_progress else state


def data_summary(examples) -> DataSummary:
    """Counts from the ingest summary file and the rejects and duplicates manifests beside the splits."""
    if examples is None:
        return DataSummary()
    summary = json_files.read_json(os.path.join(examples.uri, SUMMARY_FILE)) or {}
    return DataSummary(
        examples_uri=examples.uri,
        seen=summary.get("seen"),
        written=summary.get("written", {}),
        rejected=summary.get("rejected"),
        rejected_by_reason=summary.get("rejected_by_reason", {}),
        ignored=summary.get("ignored"),
        duplicates=summary.get("duplicates", {}),
        rejected_files=json_files.read_jsonl(os.path.join(examples.uri, REJECTED_FILE), MAX_REJECTED_FILES),
        duplicate_groups=json_files.read_jsonl(os.path.join(examples.uri, DUPLICATES_FILE), MAX_REJECTED_FILES),
    )


def label_drift(steps: list[Step]) -> Optional[LabelDrift]:
    """The comparison LabelDriftCheck recorded (a String artifact holding its JSON); None if it did not run."""
    for step in reversed(steps):
        if step.node_id == "LabelDriftCheck" and step.outputs.get(_DRIFT_KEY):
            path = step.outputs[_DRIFT_KEY][0].uri
            if os.path.isfile(path):
                with open(path) as f:
                    return LabelDrift.from_json(f.read())
    return None


def training_summary(reader: RunReader, steps: list[Step]) -> TrainingSummary:
    """Per-epoch metrics and training time of the candidate model, even when this run reused it from cache."""
    model = _candidate_model(reader, steps)
    if model is None:
        return TrainingSummary()
    producer = reader.producer(model)
    run_ids = {s.execution.id for s in steps if s.state == "ran"}
    summary = TrainingSummary(model_uri=model.uri, cached=producer is None or producer.id not in run_ids)
    model_run = _last_output(reader, steps, "ModelRun")
    summary.run_uri = model_run.uri if model_run else ""
    history = model_run_files.history(summary.run_uri)
    summary.epochs = parse_epochs(history)
    summary.details = history_details(history)
    summary.seconds = history.get(_TIME_KEY)
    if summary.seconds is None and producer is not None:
        summary.seconds = (producer.last_update_time_since_epoch - producer.create_time_since_epoch) / 1000.0
    summary.data_issues = model_run_files.data_issues(summary.run_uri)
    summary.calibration = model_run_files.calibration(summary.run_uri)
    summary.confidence = model_run_files.confidence(path_utils.serving_model_path(model.uri))
    summary.not_recorded = model_run_files.missing_reason(history)
    return summary


def parse_epochs(history: dict[str, Any]) -> list[dict[str, float]]:
    """The numeric metrics of each epoch of the Trainer's history ({"epochs": [{...}, ...], ...}; {} if none)."""
    return [{k: float(v) for k, v in epoch.items() if isinstance(v, (int, float))}
            for epoch in history.get("epochs", [])]


def history_details(history: dict[str, Any]) -> dict[str, Any]:
    """The history's top-level scalars (model name, parameter count, throughput...), for display."""
    return {k: v for k, v in history.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}


def gate_result(reader: RunReader, steps: list[Step], classes: list[str]) -> GateResult:
    """The Evaluator's decision with both models' figures and, in words, why."""
    evaluator = next((s for s in reversed(steps) if "evaluation" in s.outputs and "blessing" in s.outputs), None)
    if evaluator is None or evaluator.state not in ("ran", "cached"):
        return GateResult()
    evaluation, blessing = evaluator.outputs["evaluation"][0], evaluator.outputs["blessing"][0]
    blessed = _int_property(blessing, BLESSED_PROPERTY) == 1
    figures = results.read_gate(evaluation.uri, classes, blessed)
    baselines = evaluator.inputs.get("baseline_model", [])
    return GateResult(evaluated=True, blessed=blessed, reasons=figures.reasons, min_accuracy=figures.min_accuracy,
                      max_accuracy_drop=figures.max_accuracy_drop, candidate=figures.candidate,
                      baseline=figures.baseline, baseline_uri=baselines[0].uri if baselines else "",
                      evaluation_uri=evaluation.uri)


def edge_summary(edge_model) -> EdgeSummary:
    """The TFLite models' figures and push decisions, from the EdgeExport artifact's metrics file."""
    metrics = edge_layout.read_metrics(edge_model.uri) if edge_model is not None else None
    if not isinstance(metrics, dict):
        return EdgeSummary()
    models = [EdgeModelFigures(name=name, accuracy=figures.get("accuracy"), size_bytes=figures.get("size_bytes"),
                               latency_ms=figures.get("latency_ms"), accepted=figures.get("accepted"),
                               reason=figures.get("reason", ""))
              for name, figures in (metrics.get("models") or {}).items()]
    return EdgeSummary(status=metrics.get("status", ""), reason=metrics.get("reason", ""),
                       eval_photos=metrics.get("eval_photos"), calibration_photos=metrics.get("calibration_photos"),
                       max_int8_drop=metrics.get("max_int8_drop"),
                       models=sorted(models, key=lambda m: edge_layout.model_order(m.name)))


def version_history(reader: RunReader, pipeline_name: str, classes: list[str]) -> list[BlessedVersion]:
    """Every model blessed in any run of the pipeline, with its photos, eval accuracy and push, from ML Metadata
    and the artifacts it points to (no model is loaded)."""
    versions = []
    for found in reader.blessings(pipeline_name):
        examples = found.evaluator.inputs.get(EXAMPLES_KEY, [])
        evaluations = found.evaluator.outputs.get(EVALUATION_KEY, [])
        candidate, _ = results.candidate_and_baseline(
            results.load_model_metrics(evaluations[0].uri, classes)) if evaluations else (None, None)
        pushes = [push_result(pushed) for pushed in found.pushed_models]
        push = next((p for p in pushes if p.pushed), pushes[-1] if pushes else PushResult())
        versions.append(BlessedVersion(
            run_id=found.run_id, blessed_at=utc_time(found.blessing.create_time_since_epoch),
            photos=data_summary(examples[0]).written_total if examples else None,
            accuracy=candidate.accuracy if candidate else None, pushed=push.pushed, version=push.version,
            not_pushed_reason=push.not_pushed_reason))
    return versions


def utc_time(milliseconds: int) -> str:
    """An ML Metadata time (milliseconds since the epoch) for people: '2026-12-03 13:05 UTC'."""
    moment = datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def push_result(pushed_model) -> PushResult:
    if pushed_model is None:
        return PushResult()
    if _int_property(pushed_model, PUSHED_PROPERTY) != 1:
        return PushResult(not_pushed_reason=_string_property(pushed_model, NOT_PUSHED_REASON_PROPERTY))
    return PushResult(pushed=True, destination=_string_property(pushed_model, PUSHED_DESTINATION_PROPERTY),
                      version=_string_property(pushed_model, PUSHED_VERSION_PROPERTY),
                      already_served=_int_property(pushed_model, ALREADY_SERVED_PROPERTY) == 1)


def _candidate_model(reader: RunReader, steps: list[Step]):
    """The model the Evaluator judged, else the newest Model written in this run."""
    for step in reversed(steps):
        if "evaluation" in step.outputs and step.inputs.get("model"):
            return step.inputs["model"][0]
    return _last_output(reader, steps, "Model")


def _last_output(reader: RunReader, steps: list[Step], *type_names: str):
    for step in reversed(steps):
        for artifacts in step.outputs.values():
            for artifact in artifacts:
                if reader.type_name(artifact) in type_names:
                    return artifact
    return None


def _int_property(artifact, name: str) -> Optional[int]:
    value = artifact.custom_properties.get(name)
    return value.int_value if value is not None else None


def _string_property(artifact, name: str) -> str:
    value = artifact.custom_properties.get(name)
    return value.string_value if value is not None else ""
