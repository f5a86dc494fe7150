"""The Trainer's data-issue, calibration and confidence files, read back and rendered: summary lines, report
sections and charts from real files in the contract's shapes, and a clear 'not recorded' when they are absent."""

import html
import html.parser

from components import model_run
from components.report import format_summary
from components.report.html_report import render
from components.report.record import RunRecord, TrainingSummary
from tests.report import trainer_records as records


def _record(run_dir: str, model_dir: str, history: dict) -> RunRecord:
    training = TrainingSummary(model_uri="/m", run_uri=run_dir, data_issues=model_run.data_issues(run_dir),
                               calibration=model_run.calibration(run_dir), confidence=model_run.confidence(model_dir),
                               not_recorded=model_run.missing_reason(history))
    return RunRecord(pipeline_name="flowers", pipeline_root="/r", run_id="run-1", classes=records.CLASSES,
                     training=training)


class _Page(html.parser.HTMLParser):
    """The report's headings, the images it embeds and the number of SVG charts."""

    def __init__(self):
        super().__init__()
        self.headings, self.images, self.charts, self._in_heading = [], [], 0, False

    def handle_starttag(self, tag, attrs):
        self._in_heading = tag == "h2"
        self.images += [dict(attrs)["alt"]] if tag == "img" else []
        self.charts += tag == "svg"

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data)
            self._in_heading = False


def test_the_files_read_back_as_written(tmp_path):
    records.write_model_run(str(tmp_path / "run"))
    records.write_confidence(str(tmp_path / "model"))
    issues = model_run.data_issues(str(tmp_path / "run"))
    assert issues.label_issues == records.LABEL_ISSUES and issues.near_duplicates == records.NEAR_DUPLICATES
    assert issues.pair_counts == records.CALIBRATION["near_duplicates"]  # Counted from the pairs themselves.
    assert issues.cosine_threshold == 0.97
    calibration = model_run.calibration(str(tmp_path / "run"))
    assert (calibration.temperature, calibration.ece_before, calibration.ece_after) == (1.734, 0.081, 0.012)
    confidence = model_run.confidence(str(tmp_path / "model"))
    assert (confidence.threshold, confidence.coverage, confidence.per_class) == (
        0.9995, 0.85, records.CONFIDENCE["per_class"])


def test_summary_lines_give_the_label_issue_and_cross_split_counts_and_the_ece(tmp_path):
    records.write_model_run(str(tmp_path / "run"))
    records.write_confidence(str(tmp_path / "model"))
    text = format_summary(_record(str(tmp_path / "run"), str(tmp_path / "model"), {"data_review": "done"}))
    assert "  label issues: 3 photos whose label the out-of-fold probabilities doubt (train 2, eval 1)" in text
    assert "  near-duplicates: 2 across train and eval, 1 within train, 0 within eval (cosine >= 0.970)" in text
    assert "  calibration: temperature 1.734; eval ECE (15 bins) 0.081 -> 0.012, accuracy 0.950 -> 0.950" in text
    assert "  confidence: threshold 0.9995 reaches accuracy 0.950 on 85% of eval photos" in text


def test_report_sections_show_thumbnails_the_reliability_diagram_and_both_coverage_curves(tmp_path):
    records.write_model_run(str(tmp_path / "run"))
    records.write_confidence(str(tmp_path / "model"))
    record = _record(str(tmp_path / "run"), str(tmp_path / "model"), {"data_review": "done"})
    photos = {path: b"\xff\xd8jpeg" for path in ("daisy/2.jpg", "roses/0.jpg", "roses/1.jpg")}
    page = render(record, "no photo grid here", photos)
    parsed = _Page()
    parsed.feed(page)
    for heading in ("Likely mislabeled photos", "Near-duplicate photos", "Calibration",
                    "Confidence threshold: accuracy against coverage"):
        assert heading in parsed.headings
    assert parsed.images == ["daisy/2.jpg", "roses/0.jpg", "roses/1.jpg"]  # The others say they have none.
    assert page.count("is not among this run's records") == 2 + 4  # Label issues, near-duplicates.
    assert "3 photos whose given label the out-of-fold probabilities doubt" in page
    assert "filed as <b>daisy</b> (0.08), looks like <b>roses</b> (0.81)" in page
    assert "2 pairs across train and eval, 1 within train, 0 within eval" in page
    assert page.count('class="pair cross"') == 2
    assert "<b>0.081</b> before, <b>0.012</b> after" in page
    assert "Threshold <b>0.9995</b> reaches the target accuracy 0.950" in page and "85%" in page
    assert parsed.charts == 3  # Reliability, overall coverage, per-class coverage (no training curves: no epochs).
    for name in records.CLASSES:
        assert f">{name}</text>" in page  # A per-class curve's legend.


def test_without_the_files_each_section_says_why_and_nothing_breaks(tmp_path):
    skipped = "skipped: no cached pooled features (the model is not built in parts)"
    record = _record(str(tmp_path / "run"), str(tmp_path / "model"), {"model": "squeezenet", "data_review": skipped})
    assert record.training.data_issues is None and record.training.calibration is None
    page = render(record, "none")
    reason = f"the Trainer's data review was {skipped}"
    assert page.count(html.escape(f"not recorded: {reason}")) == 3
    assert "not recorded: the exported model holds no confidence file" in page
    text = format_summary(record)
    assert f"  label issues: not recorded ({reason})" in text and f"  calibration: not recorded ({reason})" in text
    assert "confidence:" not in text


def test_an_older_run_without_the_files_is_said_to_predate_them(tmp_path):
    record = _record(str(tmp_path / "run"), str(tmp_path / "model"), {"model": "mobilenet_v2", "epochs": []})
    assert "label issues: not recorded (the Trainer did not record them: a run from before they were computed)" \
        in format_summary(record)
