"""What a run did, read from ML Metadata: a plain-text summary and a self-contained HTML report."""

from components.report.collect import collect_run
from components.report.html_report import write_report
from components.report.record import RunRecord
from components.report.summary import format_summary

__all__ = ["RunRecord", "collect_run", "format_summary", "write_report"]
