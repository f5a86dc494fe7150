"""The Trainer's records read back: its ModelRun files (history, label issues, near-duplicates, calibration) and
the confidence file inside its SavedModel. The run report and the Pusher's model card both read them here.

Every reader copes with a file that is absent (a run from before it existed, or a model trained without the
feature cache, which has no pooled features to look in): it returns None, and `missing_reason` says why.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Optional

from tfx.dsl.io import fileio

from components.artifacts import (CALIBRATION_FILE, CONFIDENCE_FILE, HISTORY_FILE, LABEL_ISSUES_FILE,
                                  NEAR_DUPLICATES_FILE, OUT_OF_FOLD_LOGITS, TRAIN_SPLIT)
from components.json_files import read_json, read_jsonl

DATA_REVIEW_KEY = "data_review"  # The Trainer's history: "done", or "skipped: <why>".
SKIPPED = "skipped"
MAX_ROWS = 100_000  # Lines read from one JSON-lines file: far more than any photo set here holds pairs of.
PAIR_KINDS = ("within_train", "within_eval", "cross_split")


@dataclasses.dataclass
class DataIssues:
    """Photos whose given label the out-of-fold probabilities doubt, and pairs of nearly identical photos."""

    label_issues: list[dict[str, Any]]  # path, split, given, suggested, probabilities, score; most doubtful first.
    near_duplicates: list[dict[str, Any]]  # paths, splits, labels, similarity; most similar first.
    pair_counts: dict[str, int]  # within_train, within_eval, cross_split.
    cosine_threshold: Optional[float] = None

    @property
    def label_issue_count(self) -> int:
        return len(self.label_issues)


@dataclasses.dataclass
class Calibration:
    """The exported model's temperature, what it was fitted on, and the eval split's calibration before and
    after it."""

    temperature: float
    bins: int
    ece_before: float
    ece_after: float
    accuracy_before: Optional[float] = None
    accuracy_after: Optional[float] = None
    reliability_before: list[list[float]] = dataclasses.field(default_factory=list)  # [confidence, accuracy, n]
    reliability_after: list[list[float]] = dataclasses.field(default_factory=list)
    fitted_on: str = OUT_OF_FOLD_LOGITS  # Runs before held-out calibration recorded no such field.


@dataclasses.dataclass
class Confidence:
    """Accuracy against coverage as the confidence threshold rises (eval split), and the threshold chosen."""

    target_accuracy: float
    threshold: Optional[float]  # None: no threshold reaches the target accuracy.
    coverage: Optional[float]
    curve: list[list[float]]  # [threshold, coverage, accuracy]
    per_class: dict[str, list[list[float]]]


def history(run_uri: str) -> dict[str, Any]:
    return (read_json(os.path.join(run_uri, HISTORY_FILE)) if run_uri else None) or {}


def data_issues(run_uri: str) -> Optional[DataIssues]:
    """Both lists in full, or None when the Trainer wrote neither."""
    if not run_uri or not any(fileio.exists(os.path.join(run_uri, name))
                              for name in (LABEL_ISSUES_FILE, NEAR_DUPLICATES_FILE)):
        return None
    pairs = read_jsonl(os.path.join(run_uri, NEAR_DUPLICATES_FILE), MAX_ROWS)
    threshold = ((read_json(os.path.join(run_uri, CALIBRATION_FILE)) or {}).get("threshold") or {}).get("cosine")
    return DataIssues(label_issues=read_jsonl(os.path.join(run_uri, LABEL_ISSUES_FILE), MAX_ROWS),
                      near_duplicates=pairs, pair_counts=pair_counts(pairs), cosine_threshold=threshold)


def pair_counts(pairs: list[dict[str, Any]]) -> dict[str, int]:
    """How many pairs lie within the train split, within the eval split and across the two."""
    counts = dict.fromkeys(PAIR_KINDS, 0)
    for pair in pairs:
        splits = set(pair.get("splits", []))
        kind = "cross_split" if len(splits) > 1 else "within_train" if splits == {TRAIN_SPLIT} else "within_eval"
        counts[kind] += 1
    return counts


def calibration(run_uri: str) -> Optional[Calibration]:
    found = read_json(os.path.join(run_uri, CALIBRATION_FILE)) if run_uri else None
    if not isinstance(found, dict):
        return None
    return Calibration(temperature=found["temperature"], bins=found["bins"], ece_before=found["ece_before"],
                       ece_after=found["ece_after"], accuracy_before=found.get("accuracy_before"),
                       accuracy_after=found.get("accuracy_after"),
                       reliability_before=found.get("reliability_before", []),
                       reliability_after=found.get("reliability_after", []),
                       fitted_on=found.get("fitted_on", OUT_OF_FOLD_LOGITS))


def confidence(saved_model_dir: str) -> Optional[Confidence]:
    """The confidence file of an exported or pushed SavedModel, or None."""
    found = read_json(os.path.join(saved_model_dir, CONFIDENCE_FILE)) if saved_model_dir else None
    if not isinstance(found, dict):
        return None
    return Confidence(target_accuracy=found["target_accuracy"], threshold=found.get("threshold"),
                      coverage=found.get("coverage"), curve=found.get("curve", []),
                      per_class=found.get("per_class", {}))


def missing_reason(run_history: dict[str, Any]) -> str:
    """Why the Trainer may have recorded no data issues or calibration: its history's `data_review` note
    ("done", or "skipped: <why>"), else what the history's absence says."""
    note = run_history.get(DATA_REVIEW_KEY)
    if isinstance(note, str) and note.startswith(SKIPPED):
        return "the Trainer's data review was " + note
    if not run_history:
        return "the Trainer recorded no history in this run"
    return "the Trainer did not record them: a run from before they were computed"
