"""The gate's figures from a ModelEvaluation artifact (TFMA metrics, plots, validation result and the EvalConfig TFMA
saved beside them): the one TFMA reader, for the run report and the Pusher's model card alike."""

from __future__ import annotations

import dataclasses
from typing import Optional

from components.artifacts import ACCURACY_METRIC, ACCURACY_METRIC_CLASS, CONFUSION_MATRIX_PLOT, EXAMPLE_COUNT_METRIC
from components.text import class_name

CANDIDATE_NAMES = ("", "candidate")  # TFMA names the candidate 'candidate' only when a baseline is evaluated too.
BASELINE_NAME = "baseline"


@dataclasses.dataclass
class ModelMetrics:
    """One model's figures on the eval split; per_class maps class name -> accuracy/precision/recall/count."""

    accuracy: Optional[float] = None
    example_count: Optional[float] = None
    per_class: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    confusion: list[list[float]] = dataclasses.field(default_factory=list)  # [actual][predicted], class id order.


def load_model_metrics(evaluation_uri: str, classes: list[str]) -> dict[str, ModelMetrics]:
    """ModelMetrics per TFMA model name: overall accuracy, per-class figures, confusion matrix."""
    import tensorflow_model_analysis as tfma

    result: dict[str, ModelMetrics] = {}
    for slice_metrics in tfma.load_metrics(evaluation_uri):
        label = _label_of_slice(slice_metrics.slice_key)
        for kv in slice_metrics.metric_keys_and_values:
            if kv.key.is_diff or kv.key.name not in (ACCURACY_METRIC, EXAMPLE_COUNT_METRIC):
                continue
            metrics = result.setdefault(kv.key.model_name, ModelMetrics())
            _store(metrics, label, kv.key.name, kv.value.double_value.value)
    for plot in tfma.load_plots(evaluation_uri):
        if plot.slice_key.single_slice_keys:
            continue
        for kv in plot.plot_keys_and_values:
            if kv.key.name == CONFUSION_MATRIX_PLOT and kv.value.HasField("multi_class_confusion_matrix_at_thresholds"):
                metrics = result.setdefault(kv.key.model_name, ModelMetrics())
                metrics.confusion = _confusion(kv.value.multi_class_confusion_matrix_at_thresholds, len(classes))
    for metrics in result.values():
        _add_precision_recall(metrics, classes)
    return result


def candidate_and_baseline(by_name: dict[str, ModelMetrics]) -> tuple[ModelMetrics, Optional[ModelMetrics]]:
    candidate = next((by_name[n] for n in CANDIDATE_NAMES if n in by_name), ModelMetrics())
    return candidate, by_name.get(BASELINE_NAME)


@dataclasses.dataclass
class GateFigures:
    """What the gate saw and decided: both models' figures, its thresholds, and why, in words."""

    candidate: ModelMetrics
    baseline: Optional[ModelMetrics]
    min_accuracy: Optional[float]
    max_accuracy_drop: Optional[float]
    reasons: list[str]


def read_gate(evaluation_uri: str, classes: list[str], blessed: bool) -> GateFigures:
    """The Evaluator's output at `evaluation_uri`, and the reasons for its decision (`blessed` or not)."""
    candidate, baseline = candidate_and_baseline(load_model_metrics(evaluation_uri, classes))
    min_accuracy, max_drop = gate_thresholds(evaluation_uri)
    reasons = (pass_reasons(candidate, baseline, min_accuracy, max_drop) if blessed
               else failure_reasons(evaluation_uri, candidate, baseline))
    return GateFigures(candidate, baseline, min_accuracy, max_drop, reasons)


def gate_rule(min_accuracy: Optional[float], max_drop: Optional[float]) -> str:
    """The gate in words. Without a baseline TFX's Evaluator drops the change threshold from the EvalConfig it
    runs (and saves), so no drop was checked."""
    floor = f"eval accuracy at least {min_accuracy:.3f}" if min_accuracy is not None else "no accuracy floor"
    if max_drop is None:
        return f"{floor}; no earlier blessed model, so no baseline to compare with"
    return f"{floor} and at most {max_drop:.3f} below the baseline's"


def gate_thresholds(evaluation_uri: str) -> tuple[Optional[float], Optional[float]]:
    """(min_accuracy, max_accuracy_drop) as configured on the accuracy metric of the EvalConfig TFMA saved with
    its results."""
    from tensorflow_model_analysis.writers.eval_config_writer import load_eval_run

    config = load_eval_run(evaluation_uri)[0]
    for spec in config.metrics_specs if config else []:
        for metric in spec.metrics:
            thresholds = [t.threshold for t in metric.per_slice_thresholds] + (
                [metric.threshold] if metric.HasField("threshold") else [])
            if metric.class_name == ACCURACY_METRIC_CLASS and thresholds:
                return _threshold_values(thresholds[0])
    return None, None


def failure_reasons(evaluation_uri: str, candidate: ModelMetrics, baseline: Optional[ModelMetrics]) -> list[str]:
    """Each failed threshold in plain words, with the numbers."""
    import tensorflow_model_analysis as tfma

    validation = tfma.load_validation_result(evaluation_uri)
    reasons = []
    for per_slice in validation.metric_validations_per_slice:
        for failure in per_slice.failures:
            reasons.append(_failure_text(failure, candidate, baseline))
    if validation.missing_slices:
        reasons.append(f"{len(validation.missing_slices)} configured slice(s) had no examples")
    if not reasons and not validation.validation_ok:
        reasons.append("TFMA validation failed without a metric failure (see the validation result)")
    return reasons


def pass_reasons(candidate: ModelMetrics, baseline: Optional[ModelMetrics], min_accuracy: Optional[float],
                 max_drop: Optional[float]) -> list[str]:
    reasons = []
    if candidate.accuracy is not None and min_accuracy is not None:
        reasons.append(f"accuracy {candidate.accuracy:.3f} >= min_accuracy {min_accuracy:.3f}")
    if baseline is None or baseline.accuracy is None:
        reasons.append("no earlier blessed model to compare with: absolute threshold only")
    elif candidate.accuracy is not None and max_drop is not None:
        reasons.append(f"accuracy {candidate.accuracy:.3f} vs baseline {baseline.accuracy:.3f} "
                       f"({candidate.accuracy - baseline.accuracy:+.3f}, largest allowed drop {max_drop:.3f})")
    return reasons


def _failure_text(failure, candidate: ModelMetrics, baseline: Optional[ModelMetrics]) -> str:
    name = failure.metric_key.name
    value = failure.metric_value.double_value.value
    threshold = failure.metric_threshold
    if failure.metric_key.is_diff and threshold.HasField("change_threshold"):
        allowed = abs(threshold.change_threshold.absolute.value)
        base = baseline.accuracy if baseline and baseline.accuracy is not None else float("nan")
        now = candidate.accuracy if candidate.accuracy is not None else base + value
        return (f"{name} {now:.3f} is {-value:.3f} below the baseline's {base:.3f} "
                f"(largest allowed drop {allowed:.3f})")
    if threshold.HasField("value_threshold"):
        bound = threshold.value_threshold
        if bound.HasField("lower_bound") and value < bound.lower_bound.value:
            return f"{name} {value:.3f} < min_accuracy {bound.lower_bound.value:.3f}"
        if bound.HasField("upper_bound") and value > bound.upper_bound.value:
            return f"{name} {value:.3f} > upper bound {bound.upper_bound.value:.3f}"
    return failure.message or f"{name} = {value:.3f} failed its threshold"


def _threshold_values(threshold) -> tuple[Optional[float], Optional[float]]:
    lower = threshold.value_threshold.lower_bound.value if threshold.value_threshold.HasField("lower_bound") else None
    change = threshold.change_threshold
    drop = abs(change.absolute.value) if change.HasField("absolute") else None
    return lower, drop


def _label_of_slice(slice_key) -> Optional[str]:
    """None for the overall slice; the class name for a `label` slice."""
    for key in slice_key.single_slice_keys:
        return key.bytes_value.decode() if key.HasField("bytes_value") else str(key.int64_value or key.float_value)
    return None


def _store(metrics: ModelMetrics, label: Optional[str], name: str, value: float) -> None:
    """Overall figures go on the ModelMetrics, label-slice figures under per_class[label]."""
    if label is not None:
        metrics.per_class.setdefault(label, {})["accuracy" if name == ACCURACY_METRIC else "count"] = value
    elif name == ACCURACY_METRIC:
        metrics.accuracy = value
    else:
        metrics.example_count = value


def _confusion(at_thresholds, n_classes: int) -> list[list[float]]:
    """The argmax matrix (threshold 0) as [actual][predicted] counts; predictions with no class are dropped."""
    matrices = sorted(at_thresholds.matrices, key=lambda m: m.threshold)
    if not matrices:
        return []
    entries = matrices[0].entries
    size = max([n_classes] + [max(e.actual_class_id, e.predicted_class_id) + 1 for e in entries])
    grid = [[0.0] * size for _ in range(size)]
    for e in entries:
        if e.actual_class_id >= 0 and e.predicted_class_id >= 0:
            grid[e.actual_class_id][e.predicted_class_id] += e.num_weighted_examples
    return grid


def _add_precision_recall(metrics: ModelMetrics, classes: list[str]) -> None:
    """Per-class precision and recall under argmax, from the confusion matrix (TFMA's own are at p > 0.5)."""
    grid = metrics.confusion
    for i, row in enumerate(grid):
        name = class_name(classes, i)
        predicted = sum(r[i] for r in grid)
        figures = metrics.per_class.setdefault(name, {})
        figures["precision"] = row[i] / predicted if predicted else float("nan")
        figures["recall"] = row[i] / sum(row) if sum(row) else float("nan")
