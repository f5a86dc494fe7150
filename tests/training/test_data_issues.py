"""The data review's NumPy parts: the out-of-fold head, confident learning, near-duplicate pairs, temperature
scaling, calibration error and the confidence threshold."""

from __future__ import annotations

import numpy as np
import pytest

from components.training import calibration, data_issues


def _recipe(epochs: int = 10, dropout: float = 0.0) -> data_issues.HeadRecipe:
    return data_issues.HeadRecipe(epochs=epochs, batch_size=16, dropout=dropout, seed=3,
                                  rates=lambda steps, epochs: np.full(steps * epochs, 1e-2))


def _blobs(per_class: int, classes: int = 3, width: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Separated non-negative clusters (as pooled ReLU features are) [photos, 2 views, width]; the views differ by
    a little noise."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3, (classes, width))
    labels = np.repeat(np.arange(classes), per_class)
    points = np.maximum(centres[labels] + rng.normal(0, 0.5, (len(labels), width)), 0)
    return np.stack([points, points + rng.normal(0, 0.05, points.shape)], axis=1), labels


def test_the_numpy_head_learns_and_every_train_photo_is_predicted_by_a_head_that_never_saw_it():
    views, labels = _blobs(40)
    folds = np.arange(len(labels)) % 5
    wrong = 7  # A photo of class 0 filed under class 1: the head that saw it cannot have learnt it.
    noisy = labels.copy()
    noisy[wrong] = 1
    out_of_fold, eval_logits = data_issues.held_out_logits(views, noisy, folds, views[:6, 0], 3, _recipe(dropout=0.2))
    assert out_of_fold.shape == (120, 3) and eval_logits.shape == (6, 3)
    assert (out_of_fold.argmax(axis=1) == labels).mean() > 0.95
    assert out_of_fold[wrong].argmax() == 0


def test_confident_learning_flags_the_moved_photos_first_and_trusts_the_rest():
    views, labels = _blobs(60, seed=1)
    rng = np.random.default_rng(2)
    moved = rng.choice(len(labels), 9, replace=False)
    noisy = labels.copy()
    noisy[moved] = (labels[moved] + 1 + rng.integers(0, 2, len(moved))) % 3
    logits, _ = data_issues.held_out_logits(views, noisy, np.arange(len(labels)) % 5, views[:1, 0], 3, _recipe())
    probabilities = data_issues.softmax(logits)
    issues = data_issues.label_issues(probabilities, noisy)
    assert len(set(moved) & set(issues)) >= 8 and len(issues) <= 2 * len(moved)
    scores = data_issues.self_confidence(probabilities, noisy)[issues]
    assert (np.diff(scores) >= 0).all()  # Most doubtful first.


def test_the_confident_joint_counts_each_photo_under_the_likeliest_class_whose_threshold_it_reaches():
    probabilities = np.array([[0.95, 0.03, 0.02], [0.9, 0.05, 0.05], [0.5, 0.45, 0.05], [0.1, 0.85, 0.05],
                              [0.4, 0.3, 0.3], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]])
    labels = np.array([0, 0, 0, 0, 1, 1, 2])  # Thresholds: 0.6125, 0.45, 0.8; photo 4 reaches none.
    np.testing.assert_array_equal(data_issues.confident_joint(probabilities, labels),
                                  [[2, 2, 0], [0, 1, 0], [0, 0, 1]])
    joint = data_issues.estimated_joint(probabilities, labels)  # Rows rescaled to 4, 2, 1 photos: sum 7.
    np.testing.assert_allclose(joint, [[2, 2, 0], [0, 2, 0], [0, 0, 1]])
    # Two photos labelled 0 are estimated to be of class 1: the two of largest margin p1 - p0 (3, then 2); photo
    # 2's top class is its label, so only photo 3 is an issue.
    assert list(data_issues.label_issues(probabilities, labels)) == [3]


def test_near_duplicate_pairs_cross_computation_blocks_and_come_most_similar_first(monkeypatch):
    monkeypatch.setattr(data_issues, "PAIR_BLOCK", 3)
    rng = np.random.default_rng(4)
    features = np.abs(rng.normal(size=(10, 64)))
    features[8] = features[1] * 2.0 + 0.001  # Same direction: cosine ~1 (a resized copy, in feature space).
    features[5] = features[0] + rng.normal(0, 0.05, 64)
    pairs = data_issues.near_duplicate_pairs(features, threshold=0.99)
    assert [(i, j) for i, j, _ in pairs] == [(1, 8), (0, 5)]
    assert pairs[0][2] >= pairs[1][2] >= 0.99 and pairs[0][2] <= 1.0
    assert data_issues.near_duplicate_pairs(np.zeros((3, 4)), threshold=0.5) == []  # No division by zero.


def test_the_fitted_temperature_recovers_the_one_that_made_the_labels():
    rng = np.random.default_rng(5)
    logits = rng.normal(0, 4, (4000, 5))
    labels = np.array([rng.choice(5, p=p) for p in data_issues.softmax(logits, 2.5)])
    assert calibration.fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.08)


def test_scaling_an_overconfident_model_lowers_its_calibration_error_and_keeps_its_accuracy():
    rng = np.random.default_rng(6)
    logits = rng.normal(0, 2, (3000, 4))
    labels = np.array([rng.choice(4, p=p) for p in data_issues.softmax(logits)])
    overconfident = data_issues.softmax(logits * 3)
    temperature = calibration.fit_temperature(calibration.log_probabilities(overconfident), labels)
    calibrated = data_issues.softmax(calibration.log_probabilities(overconfident), temperature)
    before, after = (calibration.expected_calibration_error(calibration.reliability(p, labels))
                     for p in (overconfident, calibrated))
    assert temperature == pytest.approx(3, rel=0.1)
    assert before > 0.1 and after < 0.03
    assert calibration.accuracy(calibrated, labels) == calibration.accuracy(overconfident, labels)


def test_reliability_bins_add_up_and_empty_bins_say_so():
    probabilities = np.array([[0.95, 0.05], [0.55, 0.45], [0.6, 0.4], [0.3, 0.7]])
    rows = calibration.reliability(probabilities, np.array([0, 1, 0, 1]))
    assert len(rows) == calibration.BINS and sum(count for *_, count in rows) == 4
    assert rows[0] == [None, None, 0]
    assert rows[14] == [pytest.approx(0.95), 1.0, 1]  # (14/15, 1]
    assert rows[8] == [pytest.approx(0.575), 0.5, 2]  # (8/15, 9/15]: 0.55 and 0.6
    assert calibration.expected_calibration_error(rows) == pytest.approx((0.05 + 2 * 0.075 + 0.3) / 4)


def test_the_threshold_is_the_lowest_that_reaches_the_target_or_none():
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.45, 0.55]])
    labels = np.array([0, 0, 1, 1])  # Right at 0.9, 0.8 and 0.55; wrong at 0.6.
    record = calibration.confidence_record(probabilities, labels, ["a", "b"], target_accuracy=0.9)
    curve = {round(t, 2): (coverage, accuracy) for t, coverage, accuracy in record["curve"]}
    assert curve[0.0] == (1.0, 0.75) and curve[0.61] == (0.5, 1.0) and curve[0.91] == (0.0, None)
    assert record["threshold"] == pytest.approx(0.61) and record["coverage"] == 0.5
    assert record["per_class"]["b"][0] == [0.0, 1.0, 0.5]
    unreachable = calibration.confidence_record(probabilities, np.array([1, 1, 0, 0]), ["a", "b"], 0.9)
    assert unreachable["threshold"] is None and unreachable["coverage"] == 0.0
