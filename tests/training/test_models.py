"""Model registry, builders, parameter counts, weights handling and XLA compilation of each train step."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components.errors import UserError
from components.training import models
from components.training.models import mobilenet_v2
from pipeline_config import BUNDLED_WEIGHTS


def test_registry_lists_the_shipped_models():
    assert models.names() == ["mobilenet_v2", "squeezenet"]


def test_unknown_model_fails_with_the_known_names():
    with pytest.raises(UserError, match="unknown model 'resnet'.*mobilenet_v2, squeezenet"):
        models.builder("resnet")


def test_squeezenet_has_the_codelab_parameter_count():
    assert models.build("squeezenet", models.ModelSpec(192, 5)).count_params() == 120_613


def test_mobilenet_v2_follows_the_bundled_weights_file():
    model = models.build("mobilenet_v2", models.ModelSpec(192, 5, weights=str(BUNDLED_WEIGHTS)))
    assert model.count_params() == 416_613
    assert sum(w.shape.num_elements() for w in model.trainable_weights) == 1280 * 5 + 5  # the head only
    assert model.get_layer("probabilities").dtype == "float32"


def test_mobilenet_v2_loads_the_file_weights():
    model = models.build("mobilenet_v2", models.ModelSpec(96, 5, weights=str(BUNDLED_WEIGHTS)))
    backbone = next(layer for layer in model.layers if isinstance(layer, tf.keras.Model))
    import h5py

    with h5py.File(BUNDLED_WEIGHTS) as weights:
        np.testing.assert_array_equal(backbone.get_layer("Conv1").kernel.numpy(), weights["Conv1/Conv1/kernel:0"])


def test_mobilenet_v2_alpha_without_weights_file():
    assert mobilenet_v2.resolve_alpha("none", 0.0) == 1.0
    assert mobilenet_v2.resolve_alpha("imagenet", 0.5) == 0.5
    assert mobilenet_v2.alpha_of_weights_file(str(BUNDLED_WEIGHTS)) == 0.35


def test_alpha_mismatch_with_the_weights_file_fails_clearly():
    with pytest.raises(UserError, match="training.alpha: 1.0 does not match .* alpha 0.35"):
        models.build("mobilenet_v2", models.ModelSpec(96, 5, weights=str(BUNDLED_WEIGHTS), alpha=1.0))


def test_missing_weights_file_fails_clearly(tmp_path):
    with pytest.raises(UserError, match="training.weights: .*nope.h5' is not a file; use imagenet, none"):
        models.build("mobilenet_v2", models.ModelSpec(96, 5, weights=str(tmp_path / "nope.h5")))


def test_a_file_that_is_not_keras_weights_fails_clearly(tmp_path):
    bogus = tmp_path / "bogus.h5"
    bogus.write_text("not hdf5")
    with pytest.raises(UserError, match="is not a Keras MobileNetV2 .h5 weights file"):
        models.build("mobilenet_v2", models.ModelSpec(96, 5, weights=str(bogus)))


@pytest.mark.parametrize("name", ["mobilenet_v2", "squeezenet"])
def test_train_step_compiles_with_xla(name):
    """What a TPU demands: the whole train step lowers to XLA (static shapes, no host-side ops) and runs."""
    model = models.build(name, models.ModelSpec(32, 3, alpha=0.35))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=True)
    images = tf.random.uniform([4, 32, 32, 3], seed=1)
    labels = tf.constant([0, 1, 2, 0], tf.int64)
    step = tf.function(model.train_step, jit_compile=True)
    hlo = step.experimental_get_compiler_ir((images, labels))(stage="hlo")
    assert "HloModule" in hlo
    logs = step((images, labels))
    assert np.isfinite(logs["loss"].numpy())


def test_fine_tuning_unfreezes_the_top_of_the_backbone_but_not_its_batch_norms():
    from components.training.trainer import unfreeze_top

    model = models.build("mobilenet_v2", models.ModelSpec(32, 3, alpha=0.35))
    backbone = next(layer for layer in model.layers if isinstance(layer, tf.keras.Model))
    assert unfreeze_top(model, 10)
    trainable = [layer.name for layer in backbone.layers if layer.trainable]
    top = [layer for layer in backbone.layers[-10:] if not isinstance(layer, tf.keras.layers.BatchNormalization)]
    assert trainable == [layer.name for layer in top] and "Conv_1" in trainable
    assert not unfreeze_top(models.build("squeezenet", models.ModelSpec(32, 3)), 10)
