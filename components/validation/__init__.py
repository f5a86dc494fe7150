"""Data validation glue: stops that turn recorded anomalies and label drift into a stopped run."""

from components.validation.anomaly_stop import AnomaliesFound, AnomalyStop
from components.validation.drift_baseline import DriftBaselineResolver, record_when_blessed
from components.validation.label_drift import (LabelDrift, LabelDriftCheck, LabelDriftFound, LabelDriftStop,
                                               check_label_drift)

__all__ = ["AnomaliesFound", "AnomalyStop", "DriftBaselineResolver", "LabelDrift", "LabelDriftCheck",
           "LabelDriftFound", "LabelDriftStop", "check_label_drift", "record_when_blessed"]
