"""The Trainer's data-issue, calibration and confidence files as the contract in components/artifacts.py has it,
written for real into a ModelRun folder and a SavedModel folder: the report, the model card and `predict` read them.

The paths are the gate scenario's record sources (`<class>/<index>.jpg`, see tests/evaluation/gate_scenario.py),
so the report finds their thumbnails.
"""

from __future__ import annotations

import json
import os

from components import artifacts

CLASSES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
LABEL_ISSUES = [
    {"path": "daisy/2.jpg", "split": "eval", "given": "daisy", "suggested": "roses",
     "probabilities": [0.08, 0.04, 0.81, 0.04, 0.03], "score": 0.08},
    {"path": "tulips/1.jpg", "split": "train", "given": "tulips", "suggested": "sunflowers",
     "probabilities": [0.02, 0.05, 0.06, 0.62, 0.25], "score": 0.25},
    {"path": "roses/3.jpg", "split": "train", "given": "roses", "suggested": "tulips",
     "probabilities": [0.01, 0.01, 0.33, 0.05, 0.60], "score": 0.33},
]
NEAR_DUPLICATES = [
    {"paths": ["roses/0.jpg", "roses/1.jpg"], "splits": ["train", "eval"], "labels": ["roses", "roses"],
     "similarity": 0.991},
    {"paths": ["daisy/0.jpg", "daisy/3.jpg"], "splits": ["train", "train"], "labels": ["daisy", "daisy"],
     "similarity": 0.978},
    {"paths": ["tulips/2.jpg", "roses/2.jpg"], "splits": ["train", "eval"], "labels": ["tulips", "roses"],
     "similarity": 0.973},
]
CALIBRATION = {"temperature": 1.734, "bins": 15, "ece_before": 0.081, "ece_after": 0.012, "accuracy_before": 0.95,
               "accuracy_after": 0.95,
               "reliability_before": [[0.45, 0.3, 2], [None, None, 0], [0.72, 0.8, 5], [0.93, 1.0, 13]],
               "reliability_after": [[0.38, 0.3, 2], [None, None, 0], [0.78, 0.8, 5], [0.97, 1.0, 13]],
               "label_issues": len(LABEL_ISSUES),
               "near_duplicates": {"within_train": 1, "within_eval": 0, "cross_split": 2},
               "threshold": {"cosine": 0.97}}
CONFIDENCE = {"target_accuracy": 0.95, "threshold": 0.9995, "coverage": 0.85,
              "curve": [[0.0, 1.0, 0.9], [0.5, 0.95, 0.93], [0.9995, 0.85, 0.95], [0.9999, 0.4, 1.0], [1.0, 0.0, None]],
              "per_class": {name: [[0.0, 1.0, 0.8 + 0.02 * i], [0.9995, 0.7 + 0.05 * i, 0.96], [0.9999, 0.3, 1.0]]
                            for i, name in enumerate(CLASSES)}}


def write_model_run(run_dir: str) -> None:
    """label_issues.jsonl, near_duplicates.jsonl and calibration.json beside the history."""
    os.makedirs(run_dir, exist_ok=True)
    for name, rows in ((artifacts.LABEL_ISSUES_FILE, LABEL_ISSUES), (artifacts.NEAR_DUPLICATES_FILE, NEAR_DUPLICATES)):
        with open(os.path.join(run_dir, name), "w") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    with open(os.path.join(run_dir, artifacts.CALIBRATION_FILE), "w") as f:
        json.dump(CALIBRATION, f)


def write_confidence(saved_model_dir: str, confidence: dict = CONFIDENCE) -> None:
    """assets.extra/confidence.json inside the SavedModel, so every pushed version carries it."""
    path = os.path.join(saved_model_dir, artifacts.CONFIDENCE_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(confidence, f)
