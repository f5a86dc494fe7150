"""Model registry, builders, parameter counts, weights handling and XLA compilation of each train step."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import tensorflow as tf

from components.errors import UserError
from components.training import models
from components.training.models import mobilenet_v2, parts
from components.training.models.mobilenet_v2 import BUNDLED_WEIGHTS


def test_registry_lists_the_shipped_models():
    assert models.names() == ["mobilenet_v2", "squeezenet"]


def test_unknown_model_fails_with_the_known_names():
    with pytest.raises(UserError, match="unknown model 'resnet'.*mobilenet_v2, squeezenet"):
        models.builder("resnet")


def test_squeezenet_has_the_codelab_parameter_count():
    assert models.build("squeezenet", models.ModelSpec(192, 5)).count_params() == 120_613


def test_mobilenet_v2_follows_the_bundled_weights_file():
    model = _mobilenet(192, 5, weights=str(BUNDLED_WEIGHTS))
    assert model.count_params() == 416_613
    assert sum(w.shape.num_elements() for w in model.trainable_weights) == 1280 * 5 + 5  # the head only
    assert _layer(model, "probabilities").dtype == "float32"


def test_mobilenet_v2_loads_the_file_weights():
    model = _mobilenet(96, 5, weights=str(BUNDLED_WEIGHTS))
    import h5py

    with h5py.File(BUNDLED_WEIGHTS) as weights:
        np.testing.assert_array_equal(_layer(model, "Conv1").kernel.numpy(), weights["Conv1/Conv1/kernel:0"])


def test_mobilenet_v2_alpha_without_weights_file():
    assert mobilenet_v2.resolve_alpha("none", 0.0) == 1.0
    assert mobilenet_v2.resolve_alpha("imagenet", 0.5) == 0.5
    assert mobilenet_v2.alpha_of_weights_file(str(BUNDLED_WEIGHTS)) == 0.35


def test_alpha_mismatch_with_the_weights_file_fails_clearly():
    with pytest.raises(UserError, match="training.model_options.mobilenet_v2.alpha: 1.0 does not match .* alpha 0.35"):
        _mobilenet(96, 5, weights=str(BUNDLED_WEIGHTS), alpha=1.0)


def test_missing_weights_file_fails_clearly(tmp_path):
    message = "training.model_options.mobilenet_v2.weights: .*nope.h5' is not a file; use imagenet, none"
    with pytest.raises(UserError, match=message):
        _mobilenet(96, 5, weights=str(tmp_path / "nope.h5"))


def test_a_file_that_is_not_keras_weights_fails_clearly(tmp_path):
    bogus = tmp_path / "bogus.h5"
    bogus.write_text("not hdf5")
    with pytest.raises(UserError, match="is not a Keras MobileNetV2 .h5 weights file"):
        _mobilenet(96, 5, weights=str(bogus))


@pytest.mark.e2e  # Compiles each whole model with XLA.
@pytest.mark.parametrize("name", ["mobilenet_v2", "squeezenet"])
def test_train_step_compiles_with_xla(name):
    """What a TPU demands: the whole train step lowers to XLA (static shapes, no host-side ops) and runs."""
    model = _mobilenet(32, 3, alpha=0.35) if name == "mobilenet_v2" else models.build(name, models.ModelSpec(32, 3))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=True)
    images = tf.random.uniform([4, 32, 32, 3], seed=1)
    labels = tf.constant([0, 1, 2, 0], tf.int64)
    step = tf.function(model.train_step, jit_compile=True)
    hlo = step.experimental_get_compiler_ir((images, labels))(stage="hlo")
    assert "HloModule" in hlo
    logs = step((images, labels))
    assert np.isfinite(logs["loss"].numpy())


@pytest.mark.parametrize("layers, cut", [(0, "out_relu"), (11, "block_15_add"), (12, "block_14_add")])
def test_mobilenet_v2_parts_cut_at_a_block_boundary_below_the_fine_tuned_layers(layers, cut):
    """The frozen part ends where one tensor carries everything (never inside a residual block), with at least
    `fine_tune_layers` layers above it, and the parts compose to the whole backbone."""
    model = _mobilenet(32, 3, alpha=0.35, fine_tune_layers=layers)
    model_parts = parts.of(model)
    assert model_parts.frozen.layers[-1].layers[-1].name == cut
    tuned = [layer.name for layer in model_parts.tuned.layers[1].layers[1:]] if layers else []
    assert len(tuned) >= layers and model_parts.fine_tunable == bool(layers)
    assert not model.trainable_weights[:-2] and [w.name for w in model.trainable_weights][-2:] == \
        ["probabilities/kernel:0", "probabilities/bias:0"]  # Only the head trains until fine-tuning.
    reference = tf.keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                                  weights=None)
    images = tf.random.uniform([2, 32, 32, 3], seed=3)
    for layer in reference.layers:
        if layer.weights:
            layer.set_weights(_layer(model, layer.name).get_weights())
    pooled = model_parts.tuned(model_parts.frozen(images))
    np.testing.assert_allclose(pooled, tf.reduce_mean(reference(images * 2 - 1), axis=[1, 2]), atol=1e-5)


def test_squeezenet_has_no_parts():
    assert parts.of(models.build("squeezenet", models.ModelSpec(32, 3))) is None


def _mobilenet(image_size: int, num_classes: int, fine_tune_layers: int = 0, **options) -> tf.keras.Model:
    """MobileNetV2 with these options, without weights unless given."""
    return models.build("mobilenet_v2", models.ModelSpec(image_size, num_classes, fine_tune_layers),
                        mobilenet_v2.Options(**{"weights": "none", **options}))


def _layer(model: tf.keras.Model, name: str) -> tf.keras.layers.Layer:
    """A backbone layer by name, wherever the parts nest it."""
    for layer in model.submodules:
        if getattr(layer, "name", None) == name and isinstance(layer, tf.keras.layers.Layer):
            return layer
    raise KeyError(name)


@pytest.fixture
def broken_models(tmp_path, monkeypatch):
    """A package of model modules that exist but fail to import, each its own way."""
    package = tmp_path / "brokenmodels"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "raises.py").write_text("raise RuntimeError('boom at import')\n")
    (package / "prefixdep.py").write_text("import brokenmod\n")  # A missing module whose name prefixes the path.
    (package / "exits.py").write_text("import sys\nsys.exit(7)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "brokenmodels"
    for name in [name for name in sys.modules if name.startswith("brokenmodels")]:
        del sys.modules[name]


@pytest.mark.parametrize("module, reported", [
    ("raises", "RuntimeError: boom at import"),
    ("prefixdep", "ModuleNotFoundError: No module named 'brokenmod'"),
    ("exits", "called sys.exit(7)"),
])
def test_a_model_module_that_fails_to_import_is_reported_with_its_own_error(broken_models, module, reported, capsys):
    """Issue 20, row 10: one line naming the module and its error, exit 2, instead of a traceback, a hidden
    ImportError or a silent exit 7."""
    from pipeline.cli import main

    status = main(["run", "--model", f"{broken_models}.{module}", "--data-root", "/nonexistent"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err == (f"flowers-pipeline run: invalid setting: training.model: model module {broken_models}.{module} "
                   f"failed to import: {reported}")


def test_a_module_that_is_not_there_is_still_an_unknown_model(broken_models):
    with pytest.raises(UserError, match=f"unknown model '{broken_models}.nothing'"):
        models.builder(f"{broken_models}.nothing")
