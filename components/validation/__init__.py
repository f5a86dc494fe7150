"""Data validation glue: stops that turn recorded anomalies and label drift into a stopped run."""

from components.validation.anomaly_stop import AnomaliesFound, AnomalyStop
from components.validation.baseline_statistics import BaselineStatisticsResolver
from components.validation.label_drift import (LabelDrift, LabelDriftCheck, LabelDriftFound, LabelDriftStop,
                                               check_label_drift)

__all__ = ["AnomaliesFound", "AnomalyStop", "BaselineStatisticsResolver", "LabelDrift", "LabelDriftCheck",
           "LabelDriftFound", "LabelDriftStop", "check_label_drift"]
