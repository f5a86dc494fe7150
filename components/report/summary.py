"""format_summary: the plain-text account of a run that `flowers-pipeline run` prints at the end."""

from __future__ import annotations

from collections import Counter

from components.artifacts import LABELS_FILE, TRAIN_SPLIT
from components.errors import printable
from components.report.record import RunRecord
from components.text import (count, edge_name, fmt, in_class_order, megabytes, percent, threshold_text,
                             whole_number)
from components.validation.label_drift import describe

_NICE_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def format_summary(record: RunRecord) -> str:
    if not record.run_id:
        return f"Pipeline '{record.pipeline_name}': no run recorded in ML Metadata yet."
    sections = [_components(record), _data(record), _drift(record), _training(record), _data_issues(record),
                _calibration(record), _evaluation(record), _decision(record), _edge(record), _push(record)]
    return "\n".join(line for section in sections for line in section)


def _components(record: RunRecord) -> list[str]:
    states = ", ".join(f"{c.node_id} {c.state}" for c in record.components)
    return [f"Run {record.run_id} of '{record.pipeline_name}'", f"  components: {states}"]


def _data(record: RunRecord) -> list[str]:
    data = record.data
    if not data.examples_uri:
        return ["  photos:     no examples in this run"]
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(data.rejected_by_reason.items()))
    splits = ", ".join(f"{split} {sum(counts.values())}" for split, counts in data.written.items())
    line = f"  photos:     seen {whole_number(data.seen)}, written {whole_number(data.written_total)}"
    line += f" ({splits})" if splits else ""
    line += f", rejected {whole_number(data.rejected)}" + (f" ({reasons})" if reasons else "")
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


def _data_issues(record: RunRecord) -> list[str]:
    """The photos the Trainer's out-of-fold probabilities doubt, and the near-duplicate pairs it found."""
    training = record.training
    if not training.model_uri:
        return []
    issues = training.data_issues
    if issues is None:
        return [f"  label issues: not recorded ({training.not_recorded})"]
    by_split = Counter(row.get("split", "?") for row in issues.label_issues)
    splits = ", ".join(f"{split} {n}" for split, n in sorted(by_split.items(), key=lambda kv: kv[0] != TRAIN_SPLIT))
    counts = issues.pair_counts
    cosine = f" (cosine >= {fmt(issues.cosine_threshold)})" if issues.cosine_threshold is not None else ""
    return [f"  label issues: {count(issues.label_issue_count, 'photo')} whose label the out-of-fold probabilities "
            f"doubt" + (f" ({splits})" if splits else ""),
            f"  near-duplicates: {counts['cross_split']} across train and eval, {counts['within_train']} within "
            f"train, {counts['within_eval']} within eval{cosine}"]


def _calibration(record: RunRecord) -> list[str]:
    training = record.training
    if not training.model_uri:
        return []
    found, confidence = training.calibration, training.confidence
    lines = [f"  calibration: temperature {fmt(found.temperature)}; eval ECE ({found.bins} bins) "
             f"{fmt(found.ece_before)} -> {fmt(found.ece_after)}, accuracy {fmt(found.accuracy_before)} -> "
             f"{fmt(found.accuracy_after)}" if found else f"  calibration: not recorded ({training.not_recorded})"]
    if confidence is not None:
        lines.append(f"  confidence: threshold {threshold_text(confidence.threshold)} reaches accuracy "
                     f"{fmt(confidence.target_accuracy)} on {percent(confidence.coverage)} of eval photos"
                     if confidence.threshold is not None else
                     f"  confidence: no threshold reaches accuracy {fmt(confidence.target_accuracy)} on eval photos")
    return lines


def _evaluation(record: RunRecord) -> list[str]:
    gate = record.gate
    if not gate.evaluated:
        return ["  evaluation: not evaluated"]
    per_class = ", ".join(f"{name} {fmt(gate.candidate.per_class[name].get('accuracy'))}"
                          for name in in_class_order(gate.candidate.per_class, record.classes))
    baseline = fmt(gate.baseline_accuracy) if gate.baseline else "none (no earlier blessed model)"
    return [f"  eval accuracy: {fmt(gate.accuracy)} on {whole_number(gate.candidate.example_count)} photos"
            + (f"; per class: {per_class}" if per_class else ""),
            f"  baseline accuracy: {baseline}"]


def _decision(record: RunRecord) -> list[str]:
    gate = record.gate
    if not gate.evaluated:
        why = [f"{how}: {', '.join(nodes)}" for how, nodes in (("failed", record.failed),
                                                               ("interrupted", record.interrupted)) if nodes]
        stopped = f" ({'; '.join(why)})" if why else ""
        return [f"  decision:   not evaluated{stopped}"]
    because = "; ".join(gate.reasons)
    return [f"  decision:   {gate.decision}" + (f": {because}" if because else "")]


def _edge(record: RunRecord) -> list[str]:
    """The TFLite models beside the SavedModel, and which of them go next to the pushed version."""
    edge = record.edge
    if not edge.status:
        return []
    if edge.status != "exported":
        return [f"  tflite:     {edge.status}" + (f": {edge.reason}" if edge.reason else "")]
    measured = [m for m in edge.models if m.accuracy is not None]  # Not a model that failed to convert.
    accuracy = ", ".join(f"{edge_name(m.name)} {fmt(m.accuracy)}" for m in measured)
    sizes = ", ".join(f"{edge_name(m.name)} {megabytes(m.size_bytes)}" for m in measured)
    latency = ", ".join(f"{edge_name(m.name)} {fmt(m.latency_ms, 1)} ms" for m in measured)
    accepted = ", ".join(edge_name(name) for name in edge.accepted)
    return [f"  tflite:     eval accuracy on {whole_number(edge.eval_photos)} photos: {accuracy}",
            f"              size: {sizes}; one photo on 1 CPU thread: {latency}",
            f"              next to the version: {accepted + ' and ' + LABELS_FILE if accepted else 'nothing'}",
            *(f"              {edge_name(m.name)} not pushed: {m.reason}" for m in edge.models if m.accepted is False)]


def _push(record: RunRecord) -> list[str]:
    push = record.push
    if not push.pushed:
        return ["  pushed:     not pushed" + (f": {push.not_pushed_reason}" if push.not_pushed_reason else "")]
    cached = any(c.node_id.endswith("Pusher") and c.state == "cached" for c in record.components)
    already = ", already in service: nothing new pushed" if cached or push.already_served else ""
    return [f"  pushed:     {printable(push.destination)} (version {push.version}{already})"]
