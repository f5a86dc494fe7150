"""The Trainer's data review on the pooled features: label issues, near-duplicates and the temperature, as the
rows and records of the ModelRun files (their shapes are given in `components.artifacts`). Pure NumPy.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from components.artifacts import OUT_OF_FOLD_LOGITS
from components.training import calibration, data_issues


@dataclasses.dataclass(frozen=True)
class Photos:
    """One split's photos as the review sees them: pooled features [photos, views, features] (view 0 is the photo
    itself), class indices and source paths, in record order."""

    split: str
    views: np.ndarray
    labels: np.ndarray
    sources: list[str]


@dataclasses.dataclass(frozen=True)
class Review:
    temperature: calibration.Temperature  # Fitted on the out-of-fold logits: exact for a model that is not
    # fine-tuned (the Trainer fits the exported model's own on held-out photos when it is).
    label_issues: list[dict]
    near_duplicates: list[dict]
    head_eval_accuracy: float  # The NumPy head trained on the whole train split, on the eval split: how close
    # the copy of the recipe comes to the Trainer's own head (the history's first-phase val_accuracy).

    def counts(self) -> dict:
        """Near-duplicate pairs within each split and across them."""
        counts = {"within_train": 0, "within_eval": 0, "cross_split": 0}
        for row in self.near_duplicates:
            first, second = row["splits"]
            counts["cross_split" if first != second else f"within_{first}"] += 1
        return counts

    def calibration(self, temperature: calibration.Temperature, eval_probabilities: np.ndarray,
                    eval_labels: np.ndarray) -> dict:
        """CALIBRATION_FILE's content: the final model's eval probabilities before and after `temperature`, and
        the review's counts."""
        return {**temperature.record(eval_probabilities, eval_labels), "label_issues": len(self.label_issues),
                "near_duplicates": self.counts(), "threshold": {"cosine": data_issues.NEAR_DUPLICATE_COSINE}}


def review(train: Photos, evaluation: Photos, train_folds: np.ndarray, classes: list[str],
           recipe: data_issues.HeadRecipe) -> Review:
    """Held-out logits for every photo, the temperature fitted on the train split's alone, then the label issues
    of the calibrated probabilities and the near-duplicate pairs over both splits."""
    train_logits, eval_logits = data_issues.held_out_logits(train.views, train.labels, train_folds,
                                                            evaluation.views[:, 0], len(classes), recipe)
    temperature = calibration.Temperature.fitted(train_logits, train.labels, OUT_OF_FOLD_LOGITS)
    probabilities = data_issues.softmax(np.concatenate([train_logits, eval_logits]), temperature.value)
    labels = np.concatenate([train.labels, evaluation.labels])
    photos = [(train.split, source) for source in train.sources] + [(evaluation.split, s) for s in evaluation.sources]
    issues = [{"path": photos[i][1], "split": photos[i][0], "given": classes[labels[i]],
               "suggested": classes[int(probabilities[i].argmax())],
               "probabilities": [float(p) for p in probabilities[i]], "score": float(probabilities[i, labels[i]])}
              for i in data_issues.label_issues(probabilities, labels)]
    features = np.concatenate([train.views[:, 0], evaluation.views[:, 0]])
    pairs = [{"paths": [photos[i][1], photos[j][1]], "splits": [photos[i][0], photos[j][0]],
              "labels": [classes[labels[i]], classes[labels[j]]], "similarity": similarity}
             for i, j, similarity in data_issues.near_duplicate_pairs(features)]
    return Review(temperature, issues, pairs, calibration.accuracy(eval_logits, evaluation.labels))

