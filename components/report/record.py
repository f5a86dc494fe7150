"""What one pipeline run did, as plain data: the only thing the summary and the HTML report read."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from components.evaluation.results import ModelMetrics
from components.model_run import Calibration, Confidence, DataIssues
from components.validation.label_drift import LabelDrift


@dataclasses.dataclass
class ComponentRun:
    node_id: str
    state: str  # ran | cached | failed | running | interrupted (running when its process died) | canceled | new
    seconds: Optional[float] = None


@dataclasses.dataclass
class DataSummary:
    examples_uri: str = ""
    seen: Optional[int] = None
    written: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)  # split -> class -> count
    rejected: Optional[int] = None
    rejected_by_reason: dict[str, int] = dataclasses.field(default_factory=dict)
    ignored: Optional[int] = None
    duplicates: dict[str, int] = dataclasses.field(default_factory=dict)  # groups, extra_copies, ...
    rejected_files: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    duplicate_groups: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # paths, labels

    @property
    def written_total(self) -> Optional[int]:
        return sum(sum(counts.values()) for counts in self.written.values()) if self.written else None


@dataclasses.dataclass
class TrainingSummary:
    model_uri: str = ""
    run_uri: str = ""  # The Trainer's ModelRun: history and eval predictions.
    seconds: Optional[float] = None
    cached: bool = False  # The model comes from an earlier run's Trainer execution.
    epochs: list[dict[str, float]] = dataclasses.field(default_factory=list)  # One dict of metrics per epoch.
    details: dict[str, Any] = dataclasses.field(default_factory=dict)  # Scalars of the history, e.g. model, params.
    data_issues: Optional[DataIssues] = None  # Label issues and near-duplicates, from the pooled features.
    calibration: Optional[Calibration] = None
    confidence: Optional[Confidence] = None  # In the exported model: the threshold `predict` applies.
    not_recorded: str = ""  # Why the Trainer recorded no data issues or calibration (when it did not).

    @property
    def final_metrics(self) -> dict[str, float]:
        return {k: v for k, v in self.epochs[-1].items() if k != "epoch"} if self.epochs else {}


@dataclasses.dataclass
class GateResult:
    evaluated: bool = False
    blessed: Optional[bool] = None
    reasons: list[str] = dataclasses.field(default_factory=list)  # Why blessed or not, with the numbers.
    min_accuracy: Optional[float] = None
    max_accuracy_drop: Optional[float] = None
    candidate: ModelMetrics = dataclasses.field(default_factory=ModelMetrics)
    baseline: Optional[ModelMetrics] = None
    baseline_uri: str = ""
    evaluation_uri: str = ""

    @property
    def accuracy(self) -> Optional[float]:
        return self.candidate.accuracy

    @property
    def baseline_accuracy(self) -> Optional[float]:
        return self.baseline.accuracy if self.baseline else None

    @property
    def decision(self) -> str:
        if not self.evaluated:
            return "not evaluated"
        return "blessed" if self.blessed else "not blessed"


@dataclasses.dataclass
class EdgeModelFigures:
    """One model of the edge export's comparison: the SavedModel, or a TFLite model with its push decision."""

    name: str  # saved_model | float16 | int8
    accuracy: Optional[float] = None
    size_bytes: Optional[int] = None
    latency_ms: Optional[float] = None  # Median of one photo on one CPU thread.
    accepted: Optional[bool] = None  # None for the SavedModel, which the gate above decides.
    reason: str = ""  # Why a TFLite model is not pushed.


@dataclasses.dataclass
class EdgeSummary:
    status: str = ""  # "" (no edge export in this run) | exported | skipped
    reason: str = ""  # Why it was skipped.
    eval_photos: Optional[int] = None
    calibration_photos: Optional[int] = None
    max_int8_drop: Optional[float] = None
    models: list[EdgeModelFigures] = dataclasses.field(default_factory=list)

    @property
    def accepted(self) -> list[str]:
        return [m.name for m in self.models if m.accepted]


@dataclasses.dataclass
class PushResult:
    pushed: bool = False
    destination: str = ""
    version: str = ""
    already_served: bool = False  # The pusher found the model already in service and copied nothing.
    not_pushed_reason: str = ""  # Why a blessed model was not pushed (the pre-push serving check).


@dataclasses.dataclass
class BlessedVersion:
    """One model the gate blessed in some run of the pipeline, for the history across versions."""

    run_id: str
    blessed_at: str  # UTC, when the Evaluator blessed it.
    photos: Optional[int]  # Written by the ingestion it was trained and evaluated on.
    accuracy: Optional[float]  # On that run's eval split.
    pushed: bool
    version: str = ""  # The serving version it was pushed as.
    not_pushed_reason: str = ""


@dataclasses.dataclass
class RunRecord:
    pipeline_name: str
    pipeline_root: str
    run_id: str = ""  # Empty: ML Metadata holds no run of this pipeline.
    components: list[ComponentRun] = dataclasses.field(default_factory=list)
    classes: list[str] = dataclasses.field(default_factory=list)  # Class names in class-id order.
    data: DataSummary = dataclasses.field(default_factory=DataSummary)
    drift: Optional[LabelDrift] = None  # None: the run did not get as far as the label drift check.
    training: TrainingSummary = dataclasses.field(default_factory=TrainingSummary)
    gate: GateResult = dataclasses.field(default_factory=GateResult)
    edge: EdgeSummary = dataclasses.field(default_factory=EdgeSummary)
    push: PushResult = dataclasses.field(default_factory=PushResult)
    history: list[BlessedVersion] = dataclasses.field(default_factory=list)  # Every blessed model, oldest first.

    @property
    def failed(self) -> list[str]:
        return [c.node_id for c in self.components if c.state == "failed"]

    @property
    def interrupted(self) -> list[str]:
        return [c.node_id for c in self.components if c.state == "interrupted"]
