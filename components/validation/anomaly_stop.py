"""Stop the pipeline on data anomalies: ExampleValidator in TFX 1.16 only records them and carries on."""

import os

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils

from components.artifacts import ANOMALIES_FILE, split_dir
from components.errors import RunStopped


class AnomaliesFound(RunStopped):
    """The validator flagged the data; the message names each split, feature and anomaly."""


def load_anomalies(uri: str, split_names: list) -> dict:
    """The Anomalies proto of each split of an ExampleAnomalies artifact."""
    result = {}
    for split_name in split_names:
        path = os.path.join(split_dir(uri, split_name), ANOMALIES_FILE)
        with tfx.dsl.io.fileio.open(path, "rb") as handle:
            result[split_name] = anomalies_pb2.Anomalies.FromString(handle.read())
    return result


def describe_anomalies(anomalies_by_split: dict) -> list:
    """One readable line per anomaly: split, feature, short description and details; empty when clean."""
    lines = []
    for split_name, anomalies in sorted(anomalies_by_split.items()):
        for feature, info in sorted(anomalies.anomaly_info.items()):
            lines.append(f"split '{split_name}', feature '{feature}': {info.short_description}: "
                         f"{info.description.strip()}")
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            lines.append(f"split '{split_name}', whole dataset: {info.short_description}: "
                         f"{info.description.strip()}")
    return lines


def check_anomalies(uri: str, split_names: list) -> None:
    """Raise AnomaliesFound listing every anomaly of the artifact at `uri`."""
    lines = describe_anomalies(load_anomalies(uri, split_names))
    if lines:
        raise AnomaliesFound("data validation found anomalies, stopping before training:\n  "
                             + "\n  ".join(lines)
                             + f"\nFix the photos or the curated schema (schemas/schema.pbtxt); details in {uri}")


@tfx.dsl.components.component
def AnomalyStop(anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies]) -> None:
    """Fails the run (AnomaliesFound, a UserError) when ExampleValidator found any anomaly in any split."""
    check_anomalies(anomalies.uri, artifact_utils.decode_split_names(anomalies.split_names))
