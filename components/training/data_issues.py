"""What the pooled features say about the data: likely mislabeled photos and near-duplicate pairs. Pure NumPy.

- Out-of-fold logits: the head's recipe (a softmax Dense on pooled features, Adam on the run's batch, epochs
  and learning-rate schedule, the model's dropout, a random view per example and epoch) trained in NumPy once
  per fold of the train split, each fold predicted by the head that did not see it; the eval split is predicted
  by the head trained on the whole train split. Every photo then has a probability from a model that never
  trained on it, at the cost of a few seconds (no backbone is run or retrained).
- Label issues: confident learning (Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in
  Dataset Labels", JAIR 2021), pruned by noise rate as cleanlab does by default (cleanlab itself is AGPL-3.0).
  Class j's threshold t_j is the mean probability of j over the photos labelled j; the confident joint counts the
  photos labelled i under the class of highest probability among those whose threshold they reach; rescaled so
  that each row holds the photos labelled i, its off-diagonal cell (i, j) estimates how many photos labelled i
  are of class j, and that many photos labelled i with the largest margin p_j - p_i are issues, unless the top
  class is their label. Ranked by the self-confidence (the probability of the given label), lowest first. On the
  3,170 shared photos with 3 % moved (`make bench-label-issues`), this finds 0.82 of the moved photos in a list
  2.2 times their number, where the confident joint's off-diagonal alone finds 0.72.
- Near-duplicates: pairs whose pooled features have a cosine similarity of at least NEAR_DUPLICATE_COSINE.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

# Chosen by `make bench-near-duplicates` on synthetic copies (halved, JPEG quality 40, 5 % cropped) against the
# distinct photos of the bundled sample, on both bundled backbones: it catches 84-90 % of the halved copies,
# 87-97 % of the recompressed ones and 98 % of the crops, and of 19,900 pairs of distinct photos only edited copies
# of one photo reach 0.85, which leaves a margin for the millions of pairs of a bigger set (README, data review).
NEAR_DUPLICATE_COSINE = 0.88
ADAM_BETAS, ADAM_EPSILON = (0.9, 0.999), 1e-7  # Keras' Adam defaults, as the Trainer's head is compiled with.
PAIR_BLOCK = 2048  # Rows of the similarity matrix computed at a time (memory: PAIR_BLOCK x photos floats).


@dataclasses.dataclass(frozen=True)
class HeadRecipe:
    """How the Trainer trains its head on pooled features, for the NumPy copy that runs per fold."""

    epochs: int
    batch_size: int
    rates: Callable[[int, int], np.ndarray]  # (steps per epoch, epochs) -> the learning rate of every step.
    dropout: float
    seed: int


@dataclasses.dataclass(frozen=True)
class Head:
    kernel: np.ndarray  # [features, classes]
    bias: np.ndarray  # [classes]

    def logits(self, features: np.ndarray) -> np.ndarray:
        return features @ self.kernel + self.bias


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    exp = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def train_head(views: np.ndarray, labels: np.ndarray, classes: int, recipe: HeadRecipe) -> Head:
    """The head's recipe in NumPy: views [photos, views, features]; Glorot-uniform start, Adam, dropout."""
    rng = np.random.default_rng(recipe.seed)
    count, view_count, width = views.shape
    steps_per_epoch = max(1, count // recipe.batch_size)
    rates = recipe.rates(steps_per_epoch, recipe.epochs)
    limit = np.sqrt(6.0 / (width + classes))
    params = [rng.uniform(-limit, limit, (width, classes)), np.zeros(classes)]
    moments = [[np.zeros_like(p) for p in params] for _ in ADAM_BETAS]
    onehot = np.eye(classes)[labels]
    keep = 1.0 - recipe.dropout
    for step in range(steps_per_epoch * recipe.epochs):
        if step % steps_per_epoch == 0:
            order = rng.permutation(count)
        batch = order[(step % steps_per_epoch) * recipe.batch_size:][:recipe.batch_size]
        inputs = views[batch, rng.integers(0, view_count, len(batch))]
        if recipe.dropout:
            inputs = inputs * (rng.random(inputs.shape) < keep) / keep
        error = (softmax(inputs @ params[0] + params[1]) - onehot[batch]) / len(batch)
        _adam(params, moments, [inputs.T @ error, error.sum(axis=0)], rates[step], step + 1)
    return Head(params[0].astype(np.float32), params[1].astype(np.float32))


def _adam(params: list[np.ndarray], moments: list[list[np.ndarray]], grads: list[np.ndarray], rate: float,
          step: int) -> None:
    """One Adam update in place, as Keras' Adam computes it."""
    (beta1, beta2), (first, second) = ADAM_BETAS, moments
    corrected = rate * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    for param, grad, m, v in zip(params, grads, first, second):
        m += (1 - beta1) * (grad - m)
        v += (1 - beta2) * (grad * grad - v)
        param -= corrected * m / (np.sqrt(v) + ADAM_EPSILON)


def held_out_logits(train_views: np.ndarray, train_labels: np.ndarray, train_folds: np.ndarray,
                    eval_features: np.ndarray, classes: int, recipe: HeadRecipe) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold logits of every train photo (view 0) and the whole-train head's logits of every eval photo.
    A fold holding every train photo (tiny data) has no head to predict it: its logits are 0, a uniform guess."""
    out_of_fold = np.zeros((len(train_labels), classes), np.float32)
    for fold in np.unique(train_folds):
        held = train_folds == fold
        head = train_head(train_views[~held], train_labels[~held], classes, recipe) if (~held).any() else None
        out_of_fold[held] = head.logits(train_views[held, 0]) if head else 0.0
    whole = train_head(train_views, train_labels, classes, recipe)
    return out_of_fold, whole.logits(eval_features)


def label_issues(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Indices of the photos confident learning doubts (pruned by noise rate), lowest self-confidence first."""
    flagged = np.zeros(len(labels), bool)
    for given, row in enumerate(estimated_joint(probabilities, labels)):
        members = np.flatnonzero(labels == given)
        for true, count in enumerate(np.rint(row).astype(int)):
            if true != given and count > 0:
                margin = probabilities[members, true] - probabilities[members, given]
                flagged[members[np.argsort(-margin, kind="stable")[:count]]] = True
    indices = np.flatnonzero(flagged & (probabilities.argmax(axis=1) != labels))
    return indices[np.argsort(self_confidence(probabilities, labels)[indices], kind="stable")]


def confident_joint(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """[given, counted as]: each photo under the class of highest probability among those whose threshold (the
    mean probability of the class over its own photos) it reaches; a photo reaching none is not counted."""
    classes = probabilities.shape[1]
    thresholds = np.array([probabilities[labels == j, j].mean() if (labels == j).any() else np.inf
                           for j in range(classes)])
    confident = np.where(probabilities >= thresholds, probabilities, -1.0)
    counted = confident.max(axis=1) >= 0
    joint = np.zeros((classes, classes))
    np.add.at(joint, (labels[counted], confident[counted].argmax(axis=1)), 1)
    return joint


def estimated_joint(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The confident joint calibrated: each row rescaled to the photos with that label, then the whole to the
    photo count, so cell (i, j) estimates the photos labelled i whose true class is j."""
    joint = confident_joint(probabilities, labels)
    given = np.bincount(labels, minlength=joint.shape[0])
    rows = joint / np.maximum(joint.sum(axis=1, keepdims=True), 1) * given[:, None]
    return rows / max(rows.sum(), 1) * len(labels)


def self_confidence(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return probabilities[np.arange(len(labels)), labels]


def near_duplicate_pairs(features: np.ndarray,
                         threshold: float = NEAR_DUPLICATE_COSINE) -> list[tuple[int, int, float]]:
    """(i, j, cosine) for every pair i < j at or above `threshold`, most similar first."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.where(norms > 0, norms, 1.0)
    pairs = []
    for start in range(0, len(unit), PAIR_BLOCK):
        similarity = unit[start:start + PAIR_BLOCK] @ unit.T
        rows, columns = np.nonzero(similarity >= threshold)
        rows_global = rows + start
        above = columns > rows_global
        pairs += [(int(i), int(j), float(min(s, 1.0))) for i, j, s in
                  zip(rows_global[above], columns[above], similarity[rows[above], columns[above]])]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))
