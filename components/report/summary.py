"""format_summary: the plain-text account of a run that `flowers-pipeline run` prints at the end."""

from __future__ import annotations

import math
from typing import Optional

from components.report.record import RunRecord
from components.validation.label_drift import describe

_NICE_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def format_summary(record: RunRecord) -> str:
    if not record.run_id:
        return f"Pipeline '{record.pipeline_name}': no run recorded in ML Metadata yet."
    sections = [_components(record), _data(record), _drift(record), _training(record), _evaluation(record), _decision(record),
                _push(record)]
    return "\n".join(line for section in sections for line in section)


def fmt(value: Optional[float], digits: int = 3) -> str:
    """A number for people: fixed digits, '-' when unknown or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def count(n: int, noun: str) -> str:
    """'1 epoch', '10 epochs'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _components(record: RunRecord) -> list[str]:
    states = ", ".join(f"{c.node_id} {c.state}" for c in record.components)
    return [f"Run {record.run_id} of '{record.pipeline_name}'", f"  components: {states}"]


def _data(record: RunRecord) -> list[str]:
    data = record.data
    if not data.examples_uri:
        return ["  photos:     no examples in this run"]
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(data.rejected_by_reason.items()))
    splits = ", ".join(f"{split} {sum(counts.values())}" for split, counts in data.written.items())
    line = f"  photos:     seen {_count(data.seen)}, written {_count(data.written_total)}"
    line += f" ({splits})" if splits else ""
    line += f", rejected {_count(data.rejected)}" + (f" ({reasons})" if reasons else "")
    line += f", ignored {data.ignored}" if data.ignored else ""
    copies, conflicting = data.duplicates.get("extra_copies"), data.duplicates.get("groups_with_conflicting_labels")
    line += f", {copies} byte-identical {'copy' if copies == 1 else 'copies'}" if copies else ""
    return [line + (f" ({conflicting} under two or more labels)" if conflicting else "")]


def _drift(record: RunRecord) -> list[str]:
    if record.drift is None:
        return ["  label drift: not checked"]
    return [f"  label drift: {describe(record.drift)}"]


def _training(record: RunRecord) -> list[str]:
    training = record.training
    if not training.model_uri:
        return ["  training:   not trained in this run"]
    when = " (cached model from an earlier run)" if training.cached else ""
    final = training.final_metrics
    shown = [k for k in _NICE_METRICS if k in final] or sorted(final)[:4]
    metrics = ", ".join(f"{k} {fmt(final[k])}" for k in shown)
    epochs = count(len(training.epochs), "epoch") if training.epochs else "no history"
    return [f"  training:   {fmt(training.seconds, 1)} s, {epochs}{when}" + (f"; final {metrics}" if metrics else "")]


def _evaluation(record: RunRecord) -> list[str]:
    gate = record.gate
    if not gate.evaluated:
        return ["  evaluation: not evaluated"]
    per_class = ", ".join(f"{name} {fmt(figures.get('accuracy'))}"
                          for name, figures in _in_class_order(gate.candidate.per_class, record.classes))
    baseline = fmt(gate.baseline_accuracy) if gate.baseline else "none (no earlier blessed model)"
    return [f"  eval accuracy: {fmt(gate.accuracy)} on {_count(gate.candidate.example_count)} photos"
            + (f"; per class: {per_class}" if per_class else ""),
            f"  baseline accuracy: {baseline}"]


def _decision(record: RunRecord) -> list[str]:
    gate = record.gate
    if not gate.evaluated:
        stopped = f" (failed: {', '.join(record.failed)})" if record.failed else ""
        return [f"  decision:   not evaluated{stopped}"]
    because = "; ".join(gate.reasons)
    return [f"  decision:   {gate.decision}" + (f": {because}" if because else "")]


def _push(record: RunRecord) -> list[str]:
    push = record.push
    if not push.pushed:
        return ["  pushed:     not pushed"]
    cached = any(c.node_id.endswith("Pusher") and c.state == "cached" for c in record.components)
    already = ", already in service: nothing new pushed" if cached else ""
    return [f"  pushed:     {push.destination} (version {push.version}{already})"]


def _in_class_order(per_class: dict, classes: list[str]) -> list[tuple[str, dict]]:
    order = {name: i for i, name in enumerate(classes)}
    return sorted(per_class.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def _count(value: Optional[float]) -> str:
    return "?" if value is None else str(int(value))
