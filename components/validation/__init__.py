"""Data validation glue: the stop that turns ExampleValidator's recorded anomalies into a failed run."""

from components.validation.anomaly_stop import AnomaliesFound, AnomalyStop, check_anomalies, describe_anomalies

__all__ = ["AnomaliesFound", "AnomalyStop", "check_anomalies", "describe_anomalies"]
