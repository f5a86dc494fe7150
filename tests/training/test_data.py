"""The tf.data input: static shapes, relaxed and augmented training, exact evaluation, record counts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from components import artifacts
from components.errors import UserError
from components.training import data
from tests.training.training_fixtures import IMAGE_SIZE


def _patterns(dataset, split):
    return artifacts.split_files(dataset["examples"], split)


@pytest.mark.parametrize("cache", [False, True])
def test_training_batches_have_static_shapes(dataset, cache):
    train = data.train_dataset(_patterns(dataset, "train"), IMAGE_SIZE, 5, 16, seed=1, cache=cache)
    images, labels = train.element_spec
    assert images.shape == (5, IMAGE_SIZE, IMAGE_SIZE, 3) and labels.shape == (5,)
    assert train.options().deterministic is False


@pytest.mark.parametrize("cache", [False, True])
def test_training_repeats_past_the_end_without_short_batches(dataset, cache):
    train = data.train_dataset(_patterns(dataset, "train"), IMAGE_SIZE, 5, 16, seed=1, cache=cache)
    batches = list(train.take(20))  # 100 images from 48 records
    assert all(images.shape[0] == 5 for images, _ in batches)
    pixels = tf.concat([images for images, _ in batches], 0)
    assert 0.0 <= float(tf.reduce_min(pixels)) and float(tf.reduce_max(pixels)) <= 1.0


def test_augmentation_applies_to_training_only(dataset):
    patterns = _patterns(dataset, "train")
    plain = data.train_dataset(patterns, IMAGE_SIZE, 48, 1, seed=3, augmented=False)
    augmented = data.train_dataset(patterns, IMAGE_SIZE, 48, 1, seed=3)
    reference = np.stack([image for image, _ in data.eval_dataset(patterns, IMAGE_SIZE, 48).unbatch()])
    plain_images = next(iter(plain))[0].numpy()
    augmented_images = next(iter(augmented))[0].numpy()
    assert all(np.abs(reference - image).sum(axis=(1, 2, 3)).min() == 0 for image in plain_images)
    untouched = [np.abs(reference - image).sum(axis=(1, 2, 3)).min() == 0 for image in augmented_images]
    assert sum(untouched) < len(untouched) / 2


def test_evaluation_is_complete_and_deterministic(dataset):
    patterns = _patterns(dataset, "eval")
    first = [labels.numpy() for _, labels in data.eval_dataset(patterns, IMAGE_SIZE, 4)]
    second = [labels.numpy() for _, labels in data.eval_dataset(patterns, IMAGE_SIZE, 4)]
    assert [len(b) for b in first] == [4, 4, 4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(second))
    assert sorted(np.concatenate(first).tolist()) == [0] * 6 + [1] * 6 + [2] * 6


def test_decoded_images_are_cached_only_within_the_budget():
    assert data.cache_fits(3670, 192, budget_bytes=2**30) and not data.cache_fits(3670, 512, budget_bytes=2**30)


def test_records_are_counted_by_reading_them(dataset):
    assert data.count_records(_patterns(dataset, "train")) == 48


def test_records_are_counted_from_the_ingest_summary(tmp_path):
    split_dir = tmp_path / f"{artifacts.SPLIT_PREFIX}train"
    split_dir.mkdir()
    (tmp_path / artifacts.SUMMARY_FILE).write_text(json.dumps(
        {"seen": 9, "written": {"train": {"a": 4, "b": 3}, "eval": {"a": 2}}}))
    assert data.count_records([str(split_dir / "*")]) == 7  # no record file is read


def test_no_records_fails_clearly(tmp_path):
    with pytest.raises(UserError, match="no TFRecord files match"):
        data.train_dataset(artifacts.split_files(str(tmp_path), "train"), IMAGE_SIZE, 4, 4)
