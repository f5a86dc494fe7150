"""The report's sections on what the Trainer found in the data and in its own probabilities: likely mislabeled
photos, near-duplicates, the reliability diagram before and after calibration, and accuracy against coverage
with the confidence threshold chosen. Each says why it is empty when the Trainer recorded nothing."""

from __future__ import annotations

from typing import Optional, Sequence

from components.report import svg
from components.report.html_parts import escape, jpeg_src, table
from components.report.record import RunRecord
from components.text import fmt, percent, threshold_text

LABEL_ISSUES_SHOWN = 24
PAIRS_SHOWN = 12


def flagged_photos(record: RunRecord) -> set[str]:
    """The source paths whose thumbnails the sections show."""
    issues = record.training.data_issues
    if issues is None:
        return set()
    return ({row["path"] for row in issues.label_issues[:LABEL_ISSUES_SHOWN]}
            | {path for pair in issues.near_duplicates[:PAIRS_SHOWN] for path in pair["paths"]})


def sections(record: RunRecord, photos: dict[str, bytes]) -> list[str]:
    if not record.training.model_uri:
        return []
    return [label_issue_section(record, photos), near_duplicate_section(record, photos),
            calibration_section(record), confidence_section(record)]


def label_issue_section(record: RunRecord, photos: dict[str, bytes]) -> str:
    issues = record.training.data_issues
    title = "<h2>Likely mislabeled photos</h2>"
    if issues is None:
        return f'{title}<p class="muted">not recorded: {escape(record.training.not_recorded)}</p>'
    if not issues.label_issues:
        return f"{title}<p>none: the out-of-fold probabilities agree with every given label.</p>"
    shown = issues.label_issues[:LABEL_ISSUES_SHOWN]
    cells = "".join(_issue_cell(row, record.classes, photos.get(row["path"])) for row in shown)
    return (f"{title}<p>{issues.label_issue_count} photos whose given label the out-of-fold probabilities doubt "
            f"(confident learning; train photos scored by heads that never saw them, eval photos by the head "
            f"trained on the whole train split); the {len(shown)} most doubtful first. Check them, relabel or "
            f"remove them in the data folder: the pipeline changes nothing.</p><div class=\"grid\">{cells}</div>")


def _issue_cell(row: dict, classes: list[str], jpeg: Optional[bytes]) -> str:
    probabilities = row.get("probabilities") or []
    given = _probability(probabilities, classes, row["given"])
    suggested = _probability(probabilities, classes, row["suggested"])
    caption = (f"{escape(row['split'])}: filed as <b>{escape(row['given'])}</b> ({given}), "
               f"looks like <b>{escape(row['suggested'])}</b> ({suggested})")
    return (f'<div class="photo doubted" title="{escape(row["path"])}">{_img(jpeg, row["path"])}'
            f'<div class="caption">{caption}</div>'
            f'<div class="muted path">{escape(short_path(row["path"]))}</div></div>')


def near_duplicate_section(record: RunRecord, photos: dict[str, bytes]) -> str:
    issues = record.training.data_issues
    title = "<h2>Near-duplicate photos</h2>"
    if issues is None:
        return f'{title}<p class="muted">not recorded: {escape(record.training.not_recorded)}</p>'
    counts = issues.pair_counts
    threshold = f" (pooled features at cosine similarity &ge; {fmt(issues.cosine_threshold)})" \
        if issues.cosine_threshold is not None else ""
    text = (f"<p>{counts['cross_split']} pairs across train and eval, {counts['within_train']} within train, "
            f"{counts['within_eval']} within eval{threshold}. A pair across the splits lets the eval split "
            "score a photo the model trained on (red); byte-identical copies are ingestion's (see Data).</p>")
    pairs = "".join(_pair(pair, photos) for pair in issues.near_duplicates[:PAIRS_SHOWN])
    return f'{title}{text}<div class="grid">{pairs}</div>'


def _pair(pair: dict, photos: dict[str, bytes]) -> str:
    cross = len(set(pair["splits"])) > 1
    sides = "".join(f'<div title="{escape(path)}">{_img(photos.get(path), path)}<div>{escape(split)}: '
                    f'{escape(label)}</div></div>'
                    for path, split, label in zip(pair["paths"], pair["splits"], pair["labels"]))
    return (f'<div class="pair{" cross" if cross else ""}" title="{escape(" | ".join(pair["paths"]))}">{sides}'
            f'<div>cosine<br>{fmt(pair["similarity"])}</div></div>')


def calibration_section(record: RunRecord) -> str:
    found = record.training.calibration
    title = "<h2>Calibration</h2>"
    if found is None:
        return f'{title}<p class="muted">not recorded: {escape(record.training.not_recorded)}</p>'
    bins = {"before": _reliability(found.reliability_before), "after": _reliability(found.reliability_after)}
    chart = svg.xy_chart(f"Reliability on the eval split ({found.bins} bins)", bins,
                         x_label="confidence", y_label="accuracy", x_range=(0.0, 1.0), y_range=(0.0, 1.0),
                         diagonal=True)
    return (f"{title}<p>Temperature {fmt(found.temperature)}, fitted on {escape(found.fitted_on)} (never on the "
            f"eval split) and baked into the exported model, so every signature and the TFLite models "
            f"answer calibrated probabilities. Expected calibration error on the eval split ({found.bins} bins): "
            f"<b>{fmt(found.ece_before)}</b> before, <b>{fmt(found.ece_after)}</b> after; accuracy "
            f"{fmt(found.accuracy_before)} before, {fmt(found.accuracy_after)} after. On the dashed line, a "
            f"probability of p is right a share p of the time.</p><div>{chart}</div>")


def _reliability(bins: list[list[float]]) -> list[tuple[float, float]]:
    return [(confidence, accuracy) for confidence, accuracy, count in bins if count]


def confidence_section(record: RunRecord) -> str:
    found = record.training.confidence
    title = "<h2>Confidence threshold: accuracy against coverage</h2>"
    if found is None:
        return (f'{title}<p class="muted">not recorded: the exported model holds no confidence file; '
                f"{escape(record.training.not_recorded)}</p>")
    chosen = (f"Threshold <b>{threshold_text(found.threshold)}</b> reaches the target accuracy "
              f"{fmt(found.target_accuracy)} "
              f"(gate.target_accuracy) while answering {percent(found.coverage)} of the eval photos; "
              "<code>predict --min-confidence auto</code> answers <code>unsure</code> below it."
              if found.threshold is not None else
              f"No threshold reaches the target accuracy {fmt(found.target_accuracy)} on the eval split, so "
              "<code>--min-confidence auto</code> answers every photo.")
    point = _at_threshold(found.curve, found.threshold)
    marks = [(point[1], point[2], f"p = {threshold_text(found.threshold)}")] if point else []
    overall = svg.xy_chart("All eval photos", {"accuracy": [(c, a) for _, c, a in found.curve]},
                           x_label="coverage", y_label="accuracy", x_range=(0.0, 1.0), marks=marks)
    per_class = svg.xy_chart("Per class", {name: [(c, a) for _, c, a in curve]
                                           for name, curve in found.per_class.items()},
                             x_label="coverage", y_label="accuracy", x_range=(0.0, 1.0))
    rows = [(escape(name), *_figures_at(curve, found.threshold)) for name, curve in found.per_class.items()]
    return (f"{title}<p>{chosen} As the threshold rises, fewer photos are answered (coverage) and more of those "
            f"are right.</p><div>{overall}{per_class}</div>"
            + (table(["class", "coverage at the threshold", "accuracy at the threshold"], rows) if rows else ""))


def _at_threshold(curve: Sequence[Sequence[float]], threshold: Optional[float]) -> Optional[Sequence[float]]:
    """The curve's point nearest the threshold ([threshold, coverage, accuracy]), None without one."""
    if threshold is None or not curve:
        return None
    return min(curve, key=lambda point: abs(point[0] - threshold))


def _figures_at(curve: Sequence[Sequence[float]], threshold: Optional[float]) -> tuple[str, str]:
    point = _at_threshold(curve, threshold if threshold is not None else 0.0)
    return (percent(point[1]), fmt(point[2])) if point else ("-", "-")


def _probability(probabilities: list[float], classes: list[str], name: str) -> str:
    index = classes.index(name) if name in classes else -1
    return fmt(probabilities[index], 2) if 0 <= index < len(probabilities) else "?"


def short_path(path: str) -> str:
    """A photo's class folder and file name: what a person looks for in the data folder."""
    return "/".join(path.replace("\\", "/").rstrip("/").split("/")[-2:])


def _img(jpeg: Optional[bytes], path: str) -> str:
    if jpeg is None:
        return f'<div class="muted">(no thumbnail: {escape(path)} is not among this run\'s records)</div>'
    return f'<img src="{jpeg_src(jpeg)}" alt="{escape(path)}">'

