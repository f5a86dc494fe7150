"""write_report: one self-contained HTML file (inline CSS, SVG and base64 JPEGs) describing a run."""

from __future__ import annotations

import os
from typing import Optional

from components.report import quality_sections, svg
from components.report.html_parts import escape as _e
from components.report.html_parts import jpeg_src
from components.report.html_parts import table as _table
from components.report.predictions import GridPhoto, sample_predictions
from components.report.thumbnails import thumbnails
from components.evaluation.results import ModelMetrics, gate_rule
from components.report.record import RunRecord
from components.text import class_name
from components.text import count, edge_name, fmt, in_class_order, megabytes, whole_number
from components.validation.label_drift import describe

REPORT_FILE = "run_report.html"
GRID_SIZE = 36
_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.badge{display:inline-block;padding:4px 12px;border-radius:12px;
color:#fff;font-weight:bold}.blessed{background:#2e7d32}.not-blessed{background:#c62828}.not-evaluated{background:#777}
.grid{display:flex;flex-wrap:wrap;gap:8px}.photo{width:150px;font-size:12px;text-align:center}
.photo img{width:150px;height:150px;object-fit:cover;border:3px solid #2e7d32}.photo.wrong img{border-color:#c62828}
.wrong .caption{color:#c62828;font-weight:bold}.muted{color:#777}
.photo.doubted img{border-color:#ef6c00}.photo .path{overflow-wrap:anywhere}
.pair{display:flex;gap:4px;padding:4px;border:2px solid #ddd;border-radius:6px;font-size:12px}
.pair.cross{border-color:#c62828}.pair img{width:110px;height:110px;object-fit:cover}
"""


def write_report(record: RunRecord, out_dir: str) -> str:
    """Write `<out_dir>/run_report.html` and return its path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, REPORT_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(render(record, _predictions_or_error(record),
                       thumbnails(record.data.examples_uri, quality_sections.flagged_photos(record))))
    return path


def render(record: RunRecord, predictions: list[GridPhoto] | str, photos: dict[str, bytes] | None = None) -> str:
    """The page; `predictions` is the photo grid's content, or why it could not be made; `photos` the thumbnails
    of the photos the Trainer flagged, by source path."""
    title = f"Run report: {record.pipeline_name}"
    body = [f"<h1>{_e(title)}</h1>", f'<p class="muted">run {_e(record.run_id or "none recorded")}</p>']
    if record.run_id:
        body += [_gate_section(record), _edge_section(record), _per_class_section(record), _confusion_section(record),
                 _photo_section(predictions), *quality_sections.sections(record, photos or {}),
                 _history_section(record), _training_section(record), _data_section(record),
                 _drift_section(record), _components_section(record)]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>")


def _predictions_or_error(record: RunRecord) -> list[GridPhoto] | str:
    if not record.training.run_uri or not record.data.examples_uri:
        return "no model and eval examples in this run"
    return (sample_predictions(record.training.run_uri, record.data.examples_uri, record.classes, GRID_SIZE)
            or "the Trainer recorded no predictions for these eval photos")


def _gate_section(record: RunRecord) -> str:
    gate = record.gate
    css = gate.decision.replace(" ", "-")
    reasons = "".join(f"<li>{_e(r)}</li>" for r in gate.reasons)
    rows = [("accuracy", fmt(gate.accuracy), fmt(gate.baseline_accuracy)),
            ("eval photos", fmt(gate.candidate.example_count, 0),
             fmt(gate.baseline.example_count, 0) if gate.baseline else "-"),
            ("model", _e(record.training.model_uri or "-"), _e(gate.baseline_uri or "none (no earlier blessed)"))]
    table = _table(["", "candidate", "baseline"], rows)
    push = (f"pushed to <code>{_e(record.push.destination)}</code> (version {_e(record.push.version)})"
            if record.push.pushed else "not pushed" + (f": {_e(record.push.not_pushed_reason)}"
                                                        if record.push.not_pushed_reason else ""))
    thresholds = f"Gate: {_e(gate_rule(gate.min_accuracy, gate.max_accuracy_drop))}." if gate.evaluated else ""
    return (f'<h2>Gate decision</h2><p><span class="badge {css}">{_e(gate.decision)}</span> &nbsp; {push}</p>'
            f"<p>{thresholds}</p><ul>{reasons}</ul>{table if gate.evaluated else ''}")


def _edge_section(record: RunRecord) -> str:
    """The TFLite models beside the SavedModel: accuracy, size, latency and whether each is pushed."""
    edge = record.edge
    if not edge.status:
        return ""
    if edge.status != "exported":
        return f"<h2>Edge models (TFLite)</h2><p>{_e(edge.status)}: {_e(edge.reason)}</p>"
    pushed = {True: "pushed with the version" if record.push.pushed else "accepted", False: "not pushed", None: "-"}
    rows = [(_e(edge_name(m.name)), fmt(m.accuracy), _e(megabytes(m.size_bytes)), fmt(m.latency_ms, 1),
             _e(pushed[m.accepted]), _e(m.reason)) for m in edge.models]
    return (f"<h2>Edge models (TFLite)</h2><p>{whole_number(edge.eval_photos)} eval photos, one at a time; int8 "
            f"calibrated on {whole_number(edge.calibration_photos)} train photos and pushed only when at most "
            f"{fmt(edge.max_int8_drop)} below the SavedModel. Files: <code>&lt;version&gt;/tflite/</code>.</p>"
            + _table(["model", "eval accuracy", "size", "ms per photo (1 thread)", "push", "why not"], rows))


def _per_class_section(record: RunRecord) -> str:
    gate = record.gate
    if not gate.candidate.per_class:
        return ""
    baseline = gate.baseline or ModelMetrics()
    rows = []
    for name in in_class_order(gate.candidate.per_class, record.classes):
        figures = gate.candidate.per_class.get(name, {})
        rows.append((_e(name), fmt(figures.get("count"), 0), _bar(figures.get("accuracy")),
                     fmt(figures.get("precision")), fmt(figures.get("recall")),
                     fmt(baseline.per_class.get(name, {}).get("accuracy"))))
    return ("<h2>Per-class accuracy</h2>"
            + _table(["class", "eval photos", "accuracy", "precision", "recall", "baseline accuracy"], rows))


def _confusion_section(record: RunRecord) -> str:
    grid = record.gate.candidate.confusion
    if not grid:
        return ""
    names = [class_name(record.classes, i) for i in range(len(grid))]
    peak = max(max(row) for row in grid) or 1.0
    header = "<tr><th>actual \\ predicted</th>" + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr>"
    rows = "".join(
        f"<tr><th>{_e(names[i])}</th>" + "".join(_heat_cell(v, peak, i == j) for j, v in enumerate(row)) + "</tr>"
        for i, row in enumerate(grid))
    return f"<h2>Confusion matrix (candidate)</h2><table>{header}{rows}</table>"


def _photo_section(predictions: list[GridPhoto] | str) -> str:
    if isinstance(predictions, str) or not predictions:
        return f'<h2>Eval photos</h2><p class="muted">{_e(predictions or "no eval photos")}</p>'
    wrong = sum(not p.correct for p in predictions)
    cells = "".join(_photo(p) for p in predictions)
    return (f"<h2>Eval photos: predicted vs true</h2><p>{len(predictions)} photos, {wrong} wrong (red).</p>"
            f'<div class="grid">{cells}</div>')


def _training_section(record: RunRecord) -> str:
    training = record.training
    if not training.model_uri:
        return "<h2>Training</h2><p>not trained in this run</p>"
    cached = " (model reused from an earlier run's cache)" if training.cached else ""
    charts = "".join(svg.line_chart(title, {k: [e.get(k) for e in training.epochs] for k in keys
                                            if any(k in e for e in training.epochs)})
                     for title, keys in (("Loss", ("loss", "val_loss")),
                                         ("Accuracy", ("accuracy", "val_accuracy"))))
    final = ", ".join(f"{_e(k)} {fmt(v)}" for k, v in training.final_metrics.items())
    details = ", ".join(f"{_e(k)} {_e(fmt(v) if isinstance(v, float) else v)}" for k, v in training.details.items())
    epochs = count(len(training.epochs), "epoch")
    return (f"<h2>Training</h2><p>{fmt(training.seconds, 1)} s, {epochs}{cached}.</p>"
            f"<p>{details}</p><p>Final epoch: {final or 'no history recorded'}</p><div>{charts}</div>")


def _data_section(record: RunRecord) -> str:
    data = record.data
    if not data.examples_uri:
        return "<h2>Data</h2><p>no examples in this run</p>"
    classes = in_class_order({c for counts in data.written.values() for c in counts}, record.classes)
    rows = [(_e(c), *[str(data.written[s].get(c, 0)) for s in data.written]) for c in classes]
    counts = (f"<p>seen {whole_number(data.seen)}, written {whole_number(data.written_total)}, "
              f"rejected {whole_number(data.rejected)}, ignored {whole_number(data.ignored)}</p>")
    rejected = _table(["file", "reason", "detail"],
                      [(_e(r["path"]), _e(r["reason"]), _e(r.get("detail", ""))) for r in data.rejected_files]
                      ) if data.rejected_files else ""
    return (f"<h2>Data</h2>{counts}{_table(['class', *data.written.keys()], rows)}"
            f"<h3>Rejected and ignored files ({len(data.rejected_files)} listed)</h3>{rejected}"
            f"{_duplicates(data.duplicate_groups)}")


def _drift_section(record: RunRecord) -> str:
    """This run's label shares beside those of the data the model in service was trained on."""
    drift = record.drift
    if drift is None:
        return "<h2>Label drift</h2><p>not checked in this run</p>"
    if not drift.compared:
        return f"<h2>Label drift</h2><p>{_e(describe(drift))}</p>"
    verdict = "past the threshold: the run stopped before training" if drift.drifted else "within the threshold"
    rows = [(_e(label), f"{drift.share(label, 'before'):.1%} ({drift.before.get(label, 0)})",
             f"{drift.share(label, 'after'):.1%} ({drift.after.get(label, 0)})", f"{drift.change(label):+.1%}")
            for label in in_class_order(drift.labels, record.classes)]
    return (f"<h2>Label drift</h2><p>L-infinity distance {fmt(drift.distance)} against "
            f"validation.max_label_drift {drift.max_label_drift:g}: {verdict}. Baseline: the statistics of the "
            f"examples the latest blessed model was trained on (<code>{_e(drift.baseline_uri)}</code>).</p>"
            + _table(["class", "blessed model's data (photos)", "this run (photos)", "change"], rows))


def _duplicates(groups: list[dict]) -> str:
    """Groups of byte-identical photos; one filed under several labels is a labelling error to fix."""
    if not groups:
        return ""
    rows = [(_e(", ".join(map(str, group.get("paths", [])))), _e(", ".join(map(str, group.get("labels", [])))))
            for group in groups]
    conflicting = sum(len(group.get("labels", [])) > 1 for group in groups)
    return (f"<h3>Byte-identical photos ({count(len(groups), 'group')} listed, {conflicting} under conflicting "
            "labels)</h3>"
            + _table(["files", "labels"], rows))


def _history_section(record: RunRecord) -> str:
    """Every model blessed so far in this pipeline, read from ML Metadata: when, on how many photos, how good."""
    if not record.history:
        return "<h2>Blessed versions</h2><p>no model of this pipeline has been blessed yet</p>"
    rows = [(str(i), _e(v.blessed_at), _e(v.run_id), whole_number(v.photos), fmt(v.accuracy),
             f"version {_e(v.version)}" if v.pushed else _e("not pushed" + (f": {v.not_pushed_reason}"
                                                                           if v.not_pushed_reason else "")))
            for i, v in enumerate(record.history, 1)]
    points = [(i, v.accuracy) for i, v in enumerate(record.history, 1) if v.accuracy is not None]
    chart = (svg.xy_chart("Eval accuracy of each blessed model", {"eval accuracy": points}, x_label="blessed #")
             if len(points) > 1 else "")  # One point is no trend: the table says it.
    return (f"<h2>Blessed versions ({len(record.history)})</h2>"
            + _table(["#", "blessed", "run", "photos", "eval accuracy", "pushed"], rows) + f"<div>{chart}</div>")


def _components_section(record: RunRecord) -> str:
    rows = [(_e(c.node_id), _e(c.state), fmt(c.seconds, 1)) for c in record.components]
    return "<h2>Components</h2>" + _table(["component", "state", "seconds"], rows)


def _photo(p: GridPhoto) -> str:
    src = jpeg_src(p.jpeg)
    caption = (f"{_e(p.predicted_label)} ({p.probability:.0%})" if p.correct
               else f"{_e(p.predicted_label)} ({p.probability:.0%}), true: {_e(p.true_label)}")
    return (f'<div class="photo{"" if p.correct else " wrong"}"><img src="{src}" alt="{_e(p.true_label)}">'
            f'<div class="caption">{caption}</div></div>')


def _heat_cell(value: float, peak: float, diagonal: bool) -> str:
    alpha = 0.15 + 0.85 * value / peak if value else 0.0
    color = f"rgba(46,125,50,{alpha:.2f})" if diagonal else f"rgba(198,40,40,{alpha:.2f})"
    return f'<td style="background:{color}">{int(value)}</td>'


def _bar(value: Optional[float]) -> str:
    if value is None:
        return "-"
    return (f'<span style="display:inline-block;width:{value * 100:.0f}px;height:10px;background:#1f77b4"></span> '
            f"{fmt(value)}")

