"""EdgeExport: the TFLite models of a blessed candidate, measured on the eval split, for the Pusher to ship.

Why a component after the Evaluator rather than in the Trainer: conversion, calibration and a photo-by-photo
evaluation of two interpreters cost a minute on a CPU, which only a blessed model is worth; the Trainer stays
about training (and may run on a TPU host, where TFLite conversion gains nothing); and the accuracy check reads
the same eval split as the gate, recorded in ML Metadata as its own step and artifact. The Pusher copies the
accepted files next to the version it pushes (`components.edge.layout.add_to_version`).
"""

import json

from tfx import v1 as tfx
from tfx.types.artifact import Artifact
from tfx.utils import path_utils

from components.artifacts import BLESSED_PROPERTY, EDGE_MODEL_TYPE
from components.edge.exporter import CALIBRATION_PHOTOS, export_edge_models, record_skipped
from components.evaluation.results import candidate_and_baseline, load_model_metrics


class EdgeModel(Artifact):
    """TFLite models (float16 and int8), the class names file and their figures: see `components.edge.layout`."""

    TYPE_NAME = EDGE_MODEL_TYPE  # Importable as `components.EdgeModel`, as a Vertex container must import it.


@tfx.dsl.components.component
def EdgeExport(model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Model],
               examples: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],
               blessing: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelBlessing],
               evaluation: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelEvaluation],
               edge_model: tfx.dsl.components.OutputArtifact[EdgeModel],
               classes_json: tfx.dsl.components.Parameter[str],
               max_int8_drop: tfx.dsl.components.Parameter[float],
               calibration_photos: tfx.dsl.components.Parameter[int] = CALIBRATION_PHOTOS) -> None:
    """Converts and measures a blessed model (an unblessed one is recorded as skipped, at no cost)."""
    if blessing.get_int_custom_property(BLESSED_PROPERTY) != 1:
        record_skipped(edge_model.uri, "model not blessed")
        return
    classes = json.loads(classes_json)
    evaluated, _ = candidate_and_baseline(load_model_metrics(evaluation.uri, classes))
    export_edge_models(path_utils.serving_model_path(model.uri), examples.uri, edge_model.uri, classes,
                       max_int8_drop, calibration_photos, evaluated)
