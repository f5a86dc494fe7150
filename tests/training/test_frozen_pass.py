"""Which engine runs the frozen part for the feature cache: TFLite on a CPU host, Keras elsewhere or when TFLite
cannot run that part faithfully."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components.training import frozen_pass, models, strategy
from components.training.models import mobilenet_v2, parts

from tests.training.training_fixtures import CLASSES, IMAGE_SIZE


@pytest.fixture(scope="module")
def frozen():
    tf.keras.utils.set_random_seed(5)
    spec = models.ModelSpec(IMAGE_SIZE, len(CLASSES), fine_tune_layers=11)
    return parts.of(models.build("mobilenet_v2", spec, mobilenet_v2.Options(weights="none", alpha=0.35))).frozen


def test_on_a_cpu_host_tflite_runs_the_frozen_part_as_keras_does(frozen):
    chosen = frozen_pass.choose(frozen, strategy.resolve("cpu"), batch=4, enabled=True)
    assert chosen.engine == frozen_pass.TFLITE and "checked against Keras" in chosen.reason
    images = np.random.default_rng(1).uniform(size=(4, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
    expected = frozen.predict_on_batch(images)
    outputs = chosen.run(images)
    assert outputs.dtype == np.float32 and outputs.shape == expected.shape
    np.testing.assert_allclose(outputs, expected, atol=1e-4 * np.abs(expected).max())
    assert not np.array_equal(outputs[0], outputs[1])  # Not one answer for every photo.


def test_a_pass_too_short_to_repay_the_conversion_runs_on_keras(frozen):
    short = frozen_pass.choose(frozen, strategy.resolve("cpu"), batch=4, enabled=True, views=699, min_views=700)
    assert short.engine == frozen_pass.KERAS and "699 views, fewer than training.tflite_feature_pass_min_views" \
        in short.reason
    long = frozen_pass.choose(frozen, strategy.resolve("cpu"), batch=4, enabled=True, views=700, min_views=700)
    assert long.engine == frozen_pass.TFLITE


def test_turned_off_or_on_several_replicas_keras_runs_it(frozen):
    off = frozen_pass.choose(frozen, strategy.resolve("cpu"), batch=4, enabled=False)
    assert off.engine == frozen_pass.KERAS and "training.tflite_feature_pass is false" in off.reason
    default = strategy.resolve("auto")
    mirrored = strategy.Placement(default.strategy, "mirrored", "float32", 1, jit_compile=False)
    chosen = frozen_pass.choose(frozen, mirrored, batch=4, enabled=True)
    assert chosen.engine == frozen_pass.KERAS and "mirrored placement" in chosen.reason


def test_a_part_tflite_cannot_convert_runs_on_keras():
    inputs = tf.keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
    host_op = tf.keras.layers.Lambda(lambda x: tf.ensure_shape(tf.numpy_function(np.sqrt, [x], tf.float32), x.shape),
                                     output_shape=(IMAGE_SIZE, IMAGE_SIZE, 3))(inputs)
    part = tf.keras.Model(inputs, host_op)
    chosen = frozen_pass.choose(part, strategy.resolve("cpu"), batch=2, enabled=True)
    assert chosen.engine == frozen_pass.KERAS and "did not convert to TFLite" in chosen.reason
    images = np.full((2, IMAGE_SIZE, IMAGE_SIZE, 3), 4.0, np.float32)
    np.testing.assert_array_equal(chosen.run(images), np.full_like(images, 2.0))


def test_tflite_outputs_beyond_the_tolerance_fall_back_to_keras(frozen, monkeypatch):
    monkeypatch.setattr(frozen_pass, "MAX_DIFFERENCE", -1.0)  # No difference, not even zero, is within it.
    chosen = frozen_pass.choose(frozen, strategy.resolve("cpu"), batch=4, enabled=True)
    assert chosen.engine == frozen_pass.KERAS and "differed from Keras" in chosen.reason
