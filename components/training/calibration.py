"""Whether probabilities mean what they say: temperature scaling, expected calibration error, and the confidence
threshold that reaches a target accuracy. Pure NumPy.

Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017) divides the logits by one
T > 0 fitted by maximum likelihood on held-out logits; the top class never changes, so neither does accuracy.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from components.training.data_issues import softmax

BINS = 15  # Equal-width confidence bins of the expected calibration error, as Guo et al. report it.
THRESHOLD_STEP = 0.01  # The accuracy-coverage curve's confidence thresholds: 0, 0.01, ..., 1.
_LOG_BETA_RANGE, _BISECTIONS = (-7.0, 7.0), 60


@dataclasses.dataclass(frozen=True)
class Temperature:
    """The exported model's temperature and the held-out logits it was fitted on, in words for the records."""

    value: float
    fitted_on: str

    @classmethod
    def fitted(cls, logits: np.ndarray, labels: np.ndarray, fitted_on: str) -> "Temperature":
        return cls(fit_temperature(logits, labels), fitted_on)

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """A softmax model's probabilities with the temperature applied, as the exported model serves them."""
        return softmax(log_probabilities(probabilities), self.value)

    def record(self, probabilities: np.ndarray, labels: np.ndarray) -> dict:
        """The calibration file's figures: the final model's eval probabilities before and after."""
        after = self.apply(probabilities)
        before_rows, after_rows = reliability(probabilities, labels), reliability(after, labels)
        return {"temperature": self.value, "fitted_on": self.fitted_on, "bins": BINS,
                "ece_before": expected_calibration_error(before_rows),
                "ece_after": expected_calibration_error(after_rows),
                "accuracy_before": accuracy(probabilities, labels), "accuracy_after": accuracy(after, labels),
                "reliability_before": before_rows, "reliability_after": after_rows}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T minimising the mean negative log-likelihood of softmax(logits / T).

    With beta = 1 / T the likelihood is concave in beta and its derivative, mean(E_p[z] - z_label), rises
    monotonically, so bisection on log beta finds the optimum (to within 1e-12 in log) without a solver."""
    logits = np.asarray(logits, np.float64)
    given = logits[np.arange(len(labels)), labels]
    low, high = _LOG_BETA_RANGE
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        expected = (softmax(logits * np.exp(middle)) * logits).sum(axis=1)
        if (expected - given).mean() > 0:
            high = middle
        else:
            low = middle
    return float(np.exp(-(low + high) / 2))


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Logits up to a per-row constant (which softmax ignores), from a model whose output is the softmax."""
    return np.log(np.maximum(np.asarray(probabilities, np.float64), np.finfo(np.float32).tiny))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[list]:
    """[mean confidence, accuracy, count] of each confidence bin ((i/bins, (i+1)/bins]); None, None, 0 if empty."""
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        rows.append([float(confidence[members].mean()), float(correct[members].mean()), count] if count
                    else [None, None, 0])
    return rows


def expected_calibration_error(rows: list[list]) -> float:
    """The count-weighted mean gap between confidence and accuracy over the reliability rows."""
    total = sum(count for _, _, count in rows)
    return sum(count * abs(confidence - accuracy) for confidence, accuracy, count in rows if count) / max(total, 1)


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == labels).mean()) if len(labels) else 0.0


def coverage_curve(probabilities: np.ndarray, labels: np.ndarray) -> list[list]:
    """[threshold, coverage, accuracy] as the confidence threshold rises: the share of photos whose top probability
    reaches it, and the accuracy on those (None where none does)."""
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    curve = []
    for threshold in np.round(np.arange(0.0, 1.0 + THRESHOLD_STEP / 2, THRESHOLD_STEP), 2):
        answered = confidence >= threshold
        coverage = float(answered.mean()) if len(labels) else 0.0
        curve.append([float(threshold), coverage, float(correct[answered].mean()) if answered.any() else None])
    return curve


def threshold_for(curve: list[list], target_accuracy: float) -> tuple[float | None, float]:
    """The lowest threshold of `curve` whose answered photos reach `target_accuracy`, and its coverage; (None, 0)
    when no threshold does."""
    for threshold, coverage, reached in curve:
        if reached is not None and reached >= target_accuracy:
            return threshold, coverage
    return None, 0.0


def confidence_record(probabilities: np.ndarray, labels: np.ndarray, classes: list[str],
                      target_accuracy: float) -> dict:
    """CONFIDENCE_FILE's content: the overall and per-class (by given label) curves and the chosen threshold."""
    curve = coverage_curve(probabilities, labels)
    threshold, coverage = threshold_for(curve, target_accuracy)
    return {"target_accuracy": target_accuracy, "threshold": threshold, "coverage": coverage, "curve": curve,
            "per_class": {name: coverage_curve(probabilities[labels == index], labels[labels == index])
                          for index, name in enumerate(classes)}}
