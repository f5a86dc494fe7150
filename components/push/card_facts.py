"""What a model card says, gathered from the Pusher's input artifacts: the run's own records, never a copy.

The Pusher gets the Examples (ingest summary, data fingerprint), the Trainer's ModelRun (history, data issues,
calibration), the ModelEvaluation (the gate's figures), the EdgeModel (TFLite figures) and the model itself (its
confidence file). Any of them may be absent (an older DAG, a model without a feature cache): the card says so.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from tfx import types
from tfx.components.example_gen.utils import FINGERPRINT_PROPERTY_NAME
from tfx.dsl.io import fileio
from tfx.types import standard_component_specs as specs
from tfx.utils import path_utils

from components import json_files, model_run
from components.artifacts import MODEL_CARD_FILE, SUMMARY_FILE
from components.edge import layout as edge_layout
from components.evaluation.results import read_gate
from components.push import model_card
from components.push.model_card import CardFacts, Lineage

MODEL_EVALUATION_KEY = "model_evaluation"  # The Pusher's optional inputs the card reads (besides edge_model).
EDGE_MODEL_KEY = "edge_model"


def gather(input_dict: dict[str, list[types.Artifact]], lineage: Lineage) -> CardFacts:
    """The card's figures from the Pusher's inputs (the model is blessed: the Pusher got this far)."""
    examples, run, evaluation, edge = (_single(input_dict, key) for key in (
        specs.EXAMPLES_KEY, specs.MODEL_RUN_KEY, MODEL_EVALUATION_KEY, EDGE_MODEL_KEY))
    model = _single(input_dict, specs.MODEL_KEY)
    lineage.artifact_ids = {key: artifacts[0].id for key, artifacts in sorted(input_dict.items()) if artifacts}
    ingest = (json_files.read_json(os.path.join(examples.uri, SUMMARY_FILE)) if examples else None) or {}
    run_uri, classes = run.uri if run else "", _classes_of(ingest)
    return CardFacts(
        classes=classes, lineage=lineage, ingest=ingest,
        fingerprint=examples.get_string_custom_property(FINGERPRINT_PROPERTY_NAME) if examples else "",
        history=model_run.history(run_uri), gate=read_gate(evaluation.uri, classes, blessed=True) if evaluation
        else None, data_issues=model_run.data_issues(run_uri), calibration=model_run.calibration(run_uri),
        confidence=model_run.confidence(path_utils.serving_model_path(model.uri)) if model else None,
        edge=edge_layout.read_metrics(edge.uri) if edge else None)


def _single(input_dict: dict[str, list[types.Artifact]], key: str) -> Optional[types.Artifact]:
    artifacts = input_dict.get(key) or []
    return artifacts[0] if artifacts else None


def _classes_of(ingest: dict[str, Any]) -> list[str]:
    """The class names in data.classes order, as the ingest summary lists them per split."""
    return list(next(iter(ingest.get("written", {}).values()), {}))


def write_card(folder: str, facts: CardFacts) -> str:
    """`<folder>/model_card.md` (a local or gs:// folder), rendered from `facts`."""
    path = os.path.join(folder, MODEL_CARD_FILE)
    with fileio.open(path, "w") as card_file:
        card_file.write(model_card.render(facts))
    return path
