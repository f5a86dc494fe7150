"""What a run did, read from ML Metadata: a plain-text summary and a self-contained HTML report."""

from components.report.collect import collect_run
from components.report.record import RunRecord

__all__ = ["RunRecord", "collect_run"]
