"""The model card of a pushed version (`model_card.md`), rendered from the run's own records: pure, no I/O.

model-card-toolkit (TFX's ModelCardGenerator) pins protobuf < 4 and TFMA < 0.42, so it cannot install beside
this stack; the card follows its sections (Mitchell et al., "Model Cards for Model Reporting", 2019) in Markdown,
which a serving folder, a bucket browser and the Vertex Model Registry all show as text.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from components import model_run
from components.edge.layout import model_order
from components.evaluation.results import GateFigures, gate_rule
from components.text import edge_name, fmt, megabytes, percent, threshold_text, whole_number

LABEL_ISSUES_LISTED = 10


@dataclasses.dataclass
class Lineage:
    """Where the version comes from: the run, the pipeline root and the ML Metadata ids of what it was made of."""

    pipeline_name: str = ""
    run_id: str = ""
    pipeline_root: str = ""
    artifact_ids: dict[str, int] = dataclasses.field(default_factory=dict)  # input key -> artifact id


@dataclasses.dataclass
class CardFacts:
    classes: list[str]
    lineage: Lineage
    ingest: dict[str, Any] = dataclasses.field(default_factory=dict)  # The ingest summary ({} when unknown).
    fingerprint: str = ""
    history: dict[str, Any] = dataclasses.field(default_factory=dict)  # The Trainer's history.
    gate: Optional[GateFigures] = None
    data_issues: Optional[model_run.DataIssues] = None
    calibration: Optional[model_run.Calibration] = None
    confidence: Optional[model_run.Confidence] = None
    edge: Optional[dict[str, Any]] = None  # EdgeExport's metrics.

    @property
    def not_recorded(self) -> str:
        return model_run.missing_reason(self.history)


def render(facts: CardFacts) -> str:
    sections = [_title(facts), _intended_use(facts), _data(facts), _recipe(facts), _accuracy(facts),
                _calibration(facts), _edge(facts), _gate(facts), _lineage(facts)]
    return "\n\n".join(section.rstrip() for section in sections) + "\n"


def summary(facts: CardFacts) -> str:
    """One paragraph for a registry's description field: what it is, how good, where the full card is."""
    accuracy = facts.gate.candidate.accuracy if facts.gate else None
    calibration = (f", eval ECE {fmt(facts.calibration.ece_after)} after calibration" if facts.calibration else "")
    return (f"Flower photo classifier ({', '.join(facts.classes) or 'classes not recorded'}): eval accuracy "
            f"{fmt(accuracy)} on {whole_number(facts.gate.candidate.example_count if facts.gate else None)} photos"
            f"{calibration}. Pipeline '{facts.lineage.pipeline_name}', run {facts.lineage.run_id}. "
            "The full model card is model_card.md beside the SavedModel.")


def _title(facts: CardFacts) -> str:
    lineage = facts.lineage
    return (f"# Model card: {lineage.pipeline_name or 'flowers'} flower classifier\n\n"
            f"Pushed by run `{lineage.run_id or 'unknown'}` of pipeline `{lineage.pipeline_name or 'unknown'}`. "
            "Every figure below is this run's own, read from its artifacts by the Pusher.")


def _intended_use(facts: CardFacts) -> str:
    classes = ", ".join(facts.classes) or "the classes of its training data (not recorded)"
    threshold = facts.confidence.threshold if facts.confidence else None
    unsure = (f" Below a top probability of {threshold_text(threshold)}, `predict --min-confidence auto` answers "
              "`unsure`."
              if threshold is not None else "")
    return ("## What it is for\n\n"
            f"Telling which of {len(facts.classes) or 'its'} kinds of flower a photo shows: {classes}. It takes one "
            "encoded photo (JPEG, PNG, GIF or BMP, any size; the centre square is used) and returns a probability "
            f"per class.{unsure}\n\n"
            "## What it is not for\n\n"
            "- Photos of anything else: it has no 'none of these' class and always names one of its classes.\n"
            "- Photos showing several kinds of flower, or close-ups of other plants: it names one class.\n"
            "- Decisions that need more than the accuracy measured below on photos like its eval split; photos "
            "unlike the training photos (drawings, night shots, other regions' varieties) were never measured.")


def _data(facts: CardFacts) -> str:
    ingest = facts.ingest
    if not ingest:
        return "## Data\n\nNot recorded: the Pusher received no Examples artifact."
    written = ingest.get("written", {})
    splits = list(written)
    rows = [[name, *(str(written[split].get(name, 0)) for split in splits)] for name in facts.classes]
    rows.append(["total", *(str(sum(written[split].values())) for split in splits)])
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(ingest.get("rejected_by_reason", {}).items()))
    duplicates = ingest.get("duplicates", {})
    lines = ["## Data", "", _table(["class", *splits], rows), "",
             f"- Photos seen: {whole_number(ingest.get('seen'))}; rejected: {whole_number(ingest.get('rejected'))}"
             + (f" ({reasons})" if reasons else "")
             + f"; ignored (not photos): {whole_number(ingest.get('ignored'))}.",
             f"- Byte-identical photos: {whole_number(duplicates.get('extra_copies'))} extra copies in "
             f"{whole_number(duplicates.get('groups'))} groups, "
             f"{whole_number(duplicates.get('groups_with_conflicting_labels'))} of them filed under two or more "
             "labels.",
             *_issue_lines(facts),
             "", "Data fingerprint (the ingestion's cache key: files, sizes, modification times):", "",
             f"```\n{facts.fingerprint or 'not recorded'}\n```"]
    return "\n".join(lines)


def _issue_lines(facts: CardFacts) -> list[str]:
    issues = facts.data_issues
    if issues is None:
        return [f"- Near-duplicates and label issues: not recorded ({facts.not_recorded})."]
    counts = issues.pair_counts
    cosine = f" (pooled features at cosine >= {fmt(issues.cosine_threshold)})" \
        if issues.cosine_threshold is not None else ""
    lines = [f"- Near-duplicate pairs{cosine}: {counts['cross_split']} across train and eval, "
             f"{counts['within_train']} within train, {counts['within_eval']} within eval.",
             f"- Label issues found: {issues.label_issue_count} photos whose given label the out-of-fold "
             "probabilities doubt" + (", the most doubtful:" if issues.label_issues else ".")]
    lines += [f"  - `{row['path']}` ({row['split']}): filed as {row['given']} (held-out probability "
              f"{fmt(row.get('score'))}), looks like {row['suggested']}"
              for row in issues.label_issues[:LABEL_ISSUES_LISTED]]
    return lines


def _recipe(facts: CardFacts) -> str:
    history = facts.history
    if not history:
        return "## Recipe\n\nNot recorded: the Pusher received no training history."
    settings = [[name, _value(value)] for name, value in history.items()
                if isinstance(value, (str, int, float, bool)) and name != "epochs"]
    epochs = history.get("epochs", [])
    final = epochs[-1] if epochs else {}
    rates = [e["learning_rate"] for e in epochs if "learning_rate" in e]
    lines = ["## Recipe and its settings", "", _table(["setting", "value"], settings), "",
             f"{len(epochs)} epochs"
             + (f", learning rate from {fmt(max(rates), 6)} down to {fmt(min(rates), 6)}" if rates else "")
             + (f"; final epoch: loss {fmt(final.get('loss'))}, train accuracy {fmt(final.get('accuracy'))}, "
                f"eval accuracy {fmt(final.get('val_accuracy'))}" if final else "") + "."]
    return "\n".join(lines)


def _accuracy(facts: CardFacts) -> str:
    gate = facts.gate
    if gate is None:
        return "## Accuracy\n\nNot recorded: the Pusher received no ModelEvaluation."
    baseline = gate.baseline
    names = list(facts.classes) + sorted(set(gate.candidate.per_class) - set(facts.classes))
    rows = [[name, whole_number(gate.candidate.per_class.get(name, {}).get("count")),
             fmt(gate.candidate.per_class.get(name, {}).get("accuracy")),
             fmt(gate.candidate.per_class.get(name, {}).get("precision")),
             fmt(gate.candidate.per_class.get(name, {}).get("recall")),
             fmt(baseline.per_class.get(name, {}).get("accuracy")) if baseline else "-"] for name in names]
    base = (f"{fmt(baseline.accuracy)} on {whole_number(baseline.example_count)} photos" if baseline
            else "none (no earlier blessed model)")
    return "\n".join(["## Accuracy on the eval split", "",
                      f"- This model: **{fmt(gate.candidate.accuracy)}** on "
                      f"{whole_number(gate.candidate.example_count)} photos (TFMA, through the tf.Example signature).",
                      f"- The model in service before it (the baseline): {base}.", "",
                      _table(["class", "eval photos", "accuracy", "precision", "recall", "baseline accuracy"], rows)])


def _calibration(facts: CardFacts) -> str:
    found, confidence = facts.calibration, facts.confidence
    lines = ["## Calibration and confidence", ""]
    if found is None:
        lines.append(f"Calibration: not recorded ({facts.not_recorded}).")
    else:
        lines.append(f"Temperature {fmt(found.temperature)}, fitted on {found.fitted_on} and baked "
                     f"into the model (every signature and the TFLite models). Expected calibration error "
                     f"on the eval split ({found.bins} bins): {fmt(found.ece_before)} before, "
                     f"{fmt(found.ece_after)} after; accuracy {fmt(found.accuracy_before)} before, "
                     f"{fmt(found.accuracy_after)} after.")
    if confidence is None:
        lines += ["", "Confidence threshold: not recorded (the model holds no confidence file)."]
    elif confidence.threshold is None:
        lines += ["", f"Confidence threshold: none reaches the target accuracy {fmt(confidence.target_accuracy)} "
                      "on the eval split."]
    else:
        lines += ["", f"Confidence threshold: {threshold_text(confidence.threshold)} reaches the target accuracy "
                      f"{fmt(confidence.target_accuracy)} on the eval split, answering {percent(confidence.coverage)} "
                      "of its photos."]
    return "\n".join(lines)


def _edge(facts: CardFacts) -> str:
    edge = facts.edge
    if not edge:
        return "## On a phone (TFLite)\n\nNot recorded: no edge export reached the Pusher."
    if edge.get("status") != "exported":
        return f"## On a phone (TFLite)\n\n{edge.get('status', 'not exported')}: {edge.get('reason', '')}"
    rows = [[edge_name(name), fmt(m.get("accuracy")), megabytes(m.get("size_bytes")),
             fmt(m.get("latency_ms"), 1), {True: "in this version", False: "not pushed", None: "-"}[m.get("accepted")]
             + (f": {m['reason']}" if m.get("reason") else "")]
            for name, m in sorted((edge.get("models") or {}).items(), key=lambda item: model_order(item[0]))]
    return "\n".join(["## On a phone (TFLite)", "",
                      f"Measured on {whole_number(edge.get('eval_photos'))} eval photos, one at a time; the accepted "
                      "files are in `tflite/`.", "",
                      _table(["model", "eval accuracy", "size", "ms per photo (1 CPU thread)", "push"], rows)])


def _gate(facts: CardFacts) -> str:
    gate = facts.gate
    if gate is None:
        return "## Gate decision\n\nBlessed (the Pusher pushes only blessed models); its figures were not recorded."
    reasons = "\n".join(f"- {reason}" for reason in gate.reasons)
    return f"## Gate decision\n\n**Blessed**: {gate_rule(gate.min_accuracy, gate.max_accuracy_drop)}.\n\n{reasons}"


def _lineage(facts: CardFacts) -> str:
    lineage = facts.lineage
    rows = [["pipeline", lineage.pipeline_name or "-"], ["run id", lineage.run_id or "-"],
            ["pipeline root", lineage.pipeline_root or "-"],
            *([f"ML Metadata id: {key}", str(artifact_id)] for key, artifact_id in lineage.artifact_ids.items())]
    return "## Lineage\n\n" + _table(["", ""], rows)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")



def _value(value: Any) -> str:
    return fmt(value) if isinstance(value, float) else str(value)
