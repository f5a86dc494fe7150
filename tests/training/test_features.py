"""The frozen phase on cached features, in memory and spilled to disk: exact, trained through run_fn, XLA-ready,
and the plan that chooses where they go."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import types

import numpy as np
import pytest
import tensorflow as tf

from components import artifacts
from components.training import calibration, data, feature_store, features, frozen_pass, models, recipe, strategy
from components.training.models import mobilenet_v2, parts

from tests.training.training_fixtures import (CLASSES, FEATURE_STORES, IMAGE_SIZE, fn_args, open_test_store,
                                              table_array, training_settings)

# The bundled ImageNet backbone: random weights map every photo to nearly the same features.
SPEC = models.ModelSpec(IMAGE_SIZE, len(CLASSES), fine_tune_layers=11)


@pytest.fixture(scope="module")
def model():
    tf.keras.utils.set_random_seed(3)
    built = models.build("mobilenet_v2", SPEC, mobilenet_v2.Options(weights=str(mobilenet_v2.BUNDLED_WEIGHTS)))
    head = parts.of(built).head
    head.set_weights([w + np.random.default_rng(0).normal(0, 0.5, w.shape) for w in head.get_weights()])
    return built


@pytest.fixture(params=FEATURE_STORES)
def store(request):
    with open_test_store(request.param) as opened:
        yield opened
    if request.param == feature_store.DISK:  # Spilled files are gone once the store closes.
        assert not os.path.exists(opened.directory)


@pytest.mark.parametrize("enabled, engine, atol", [(False, frozen_pass.KERAS, 1e-5), (True, frozen_pass.TFLITE, 1e-4)])
def test_cached_features_give_the_full_models_predictions(model, dataset, store, enabled, engine, atol):
    """Within float rounding of the full model, whether Keras or (on this CPU) the TFLite interpreter ran the
    frozen part."""
    files = [artifacts.split_files(dataset["examples"], split)[0] for split in artifacts.SPLITS]
    frozen = parts.of(model).frozen
    chosen = frozen_pass.choose(frozen, strategy.resolve("cpu"), 8, enabled)
    assert chosen.engine == engine
    cached = features.compute(chosen.run, features.output_shape(frozen), [files[0]], [files[1]], IMAGE_SIZE,
                              global_batch=8, store=store)
    images = {split: np.concatenate([x for x, _ in data.eval_dataset([f], IMAGE_SIZE, 64).as_numpy_iterator()])
              for split, f in zip(("train", "eval"), files)}
    assert (cached.train.rows, cached.train.views, cached.eval.rows) == (96, 2, 18)  # 96 % 8 == 0, 18 pads to 24
    np.testing.assert_array_equal(cached.eval_labels, data.read_labels([files[1]]))
    model_parts = parts.of(model)
    from_features = model_parts.head(model_parts.tuned(table_array(cached.eval))).numpy()
    np.testing.assert_allclose(from_features, model.predict(images["eval"], verbose=0), atol=atol)
    assert len(set(from_features.argmax(axis=1))) > 1  # The comparison is not between constant answers.
    mirrored = model_parts.frozen.predict(images["train"][:, :, ::-1], verbose=0)
    np.testing.assert_allclose(table_array(cached.train)[1::2], mirrored, atol=5 * atol)  # Activations reach 20.
    if store.kind == feature_store.DISK:  # Spilled to several files of whole records under the system's temp dir.
        assert len(cached.train.shards) > 2 and os.path.dirname(store.directory) == tempfile.gettempdir()
        assert sum(shard.records for shard in cached.train.shards) == 48


def test_each_epoch_picks_one_view_per_photo(store):
    writer = store.writer(80, (1,), views=2)
    writer.add(np.stack([np.zeros([40, 1]), np.ones([40, 1])], axis=1).reshape(80, 1))  # View 0 is 0, view 1 is 1.
    dataset = features.train_dataset(writer.finish(), np.arange(40), global_batch=40, seed=1)
    batches = [next(iter(dataset.take(1)))[0].numpy() for _ in range(2)]
    iterator = iter(dataset)
    epoch_one, epoch_two = next(iterator), next(iterator)
    for batch in (epoch_one, epoch_two):
        assert sorted(batch[1].numpy()) == list(range(40))  # Each photo once per epoch,
        assert 0 < batch[0].numpy().mean() < 1  # in one of its views, chosen at random,
    assert not np.array_equal(epoch_one[0].numpy()[np.argsort(epoch_one[1])],  # again every epoch.
                              epoch_two[0].numpy()[np.argsort(epoch_two[1])])
    assert not np.array_equal(epoch_one[1].numpy(), epoch_two[1].numpy())  # In a new order.
    assert batches[0].shape == (40, 1) and dataset.element_spec[0].shape.is_fully_defined()


def test_records_left_out_are_never_trained_on_and_their_photos_predicted_alone(store):
    writer = store.writer(80, (1,), views=2)
    writer.add(np.stack([np.arange(40) * 10, np.arange(40) * 10 + 1], axis=1).reshape(80, 1))  # View v of r: 10r+v.
    table, held_out = writer.finish(), np.arange(40) % 4 == 0
    epoch = next(iter(features.train_dataset(table, np.arange(40), global_batch=30, seed=1, keep=~held_out)))
    assert sorted(epoch[1].numpy()) == list(np.flatnonzero(~held_out))  # The 30 kept records, each once.
    assert set(epoch[0].numpy()[:, 0] // 10) == set(epoch[1].numpy())
    identity = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Lambda(lambda x: x)])
    photos = features.predict_photos(identity, table, held_out, global_batch=4)
    np.testing.assert_array_equal(photos[:, 0], np.flatnonzero(held_out) * 10)  # View 0, in record order.


def test_a_spilled_cache_is_removed_when_training_fails():
    with pytest.raises(RuntimeError, match="training failed"):
        with open_test_store(feature_store.DISK) as store:
            store.writer(4, (3,), views=1).add(np.ones([4, 3]))
            raise RuntimeError("training failed")
    assert not os.path.exists(store.directory)


@pytest.mark.parametrize("enabled, frozen_part, needed, free_disk, kind, reason", [
    (True, True, 100, 10**9, "memory", "fit in training.feature_cache_max_bytes"),
    (True, True, 10**6, 10**9, "disk", "spilled to local scratch disk"),
    (True, True, 10**6, 10**5, "off", "free on the scratch disk; training end to end"),
    (False, True, 100, 10**9, "off", "training.feature_cache is false"),
    (True, False, 0, 10**9, "off", "no frozen part"),
])
def test_the_plan_keeps_activations_in_memory_up_to_the_one_budget_then_spills_them(enabled, frozen_part, needed,
                                                                                    free_disk, kind, reason):
    plan = features.plan(enabled, frozen_part, needed, budget_bytes=1000, free_disk_bytes=free_disk)
    assert plan.kind == kind and reason in plan.reason


@pytest.mark.e2e  # Compiles the frozen backbone with XLA.
def test_feature_pass_compiles_with_xla(model, dataset, store):
    frozen = parts.of(model).frozen
    images = tf.random.uniform([4, IMAGE_SIZE, IMAGE_SIZE, 3], seed=2)
    step = tf.function(lambda x: frozen(x, training=False), jit_compile=True)
    assert "HloModule" in step.experimental_get_compiler_ir(images)(stage="hlo")
    np.testing.assert_allclose(step(images), frozen(images, training=False), atol=1e-4)
    compiled = tf.keras.Model(frozen.input, frozen.output)  # Its own compile state; the layers are frozen's.
    compiled.compile(jit_compile=True)
    files = [artifacts.split_files(dataset["examples"], split)[0] for split in artifacts.SPLITS]
    cached = features.compute(features.keras_forward(compiled), features.output_shape(frozen), [files[0]],
                              [files[1]], IMAGE_SIZE, global_batch=8, store=store)
    eval_images = np.concatenate([x for x, _ in data.eval_dataset([files[1]], IMAGE_SIZE, 64).as_numpy_iterator()])
    np.testing.assert_allclose(table_array(cached.eval), frozen.predict(eval_images, verbose=0), atol=1e-4)
    train = features.train_dataset(cached.train, cached.train_labels, global_batch=8, seed=0)
    assert train.element_spec[0].shape.is_fully_defined()  # Static shapes, as XLA and TPUs need.


@pytest.mark.e2e  # run_fn: three epochs and an export.
@pytest.mark.parametrize("budget, kind", [(2**30, "memory"), (1000, "disk")])
def test_run_fn_trains_on_cached_features_and_exports_the_full_model(dataset, tmp_path, caplog, monkeypatch, budget,
                                                                     kind):
    from components.training.trainer import run_fn

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # Where a spilled cache goes, to see it removed.
    settings = training_settings(model="mobilenet_v2", epochs=2, learning_rate=2e-2, fine_tune_layers=11,
                                 fine_tune_epochs=1, fine_tune_learning_rate=1e-3, fine_tune_min_records=0,
                                 feature_cache_max_bytes=budget, tflite_feature_pass_min_views=0)
    args = fn_args(dataset["examples"], str(tmp_path), settings)
    with caplog.at_level(logging.INFO):
        run_fn(args)
    history = json.load(open(os.path.join(args.model_run_dir, artifacts.HISTORY_FILE)))
    assert history["feature_cache"] == kind and history["fine_tune_layers"] == 11
    assert history["feature_pass"] == frozen_pass.TFLITE and "checked against Keras" in history["feature_pass_reason"]
    assert "training.feature_cache_max_bytes" in history["feature_cache_reason"]
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3]
    assert f"feature cache {kind}: 48 train photos x 2 views and 18 eval photos" in caplog.text
    held_out = data.read_folds(args.train_files, 10) == 0  # training.calibration_holdout 0.1: one fold of 10.
    assert 0 < held_out.sum() < 48 and history["fitted_records"] == 48 - held_out.sum()
    assert history["steps_per_epoch"] == (48 - held_out.sum()) // 8
    assert not [path for path in scratch.iterdir() if path.name.startswith(feature_store.SCRATCH_PREFIX)]
    # The exported model (backbone plus trained head) answers as the Trainer's last validation did.
    served = tf.saved_model.load(args.serving_model_dir).signatures[artifacts.EXAMPLES_SIGNATURE]
    outputs = served(**{artifacts.EXAMPLES_INPUT: tf.constant(dataset["records"]["eval"])})
    saved = json.load(open(os.path.join(args.model_run_dir, artifacts.EVAL_PREDICTIONS_FILE)))
    sources = data.read_sources(args.eval_files)
    by_record = [saved[source] for source in sources]
    order = {source: i for i, source in enumerate(sources)}
    served_order = [order[src] for src in _sources(dataset["records"]["eval"])]
    np.testing.assert_array_equal(outputs["class_id"].numpy(), [by_record[i][0] for i in served_order])
    np.testing.assert_allclose(outputs["probabilities"].numpy().max(axis=1), [by_record[i][1] for i in served_order],
                               atol=1e-4)
    accuracy = np.mean(outputs["class_id"].numpy() == [CLASSES.index(s.split("/")[-1].split("_")[0])
                                                       for s in _sources(dataset["records"]["eval"])])
    assert np.isclose(accuracy, history["epochs"][-1]["val_accuracy"], atol=1e-6)
    _assert_temperature_fitted_on_the_held_out_photos(served, args, held_out)


def _assert_temperature_fitted_on_the_held_out_photos(served, args, held_out: np.ndarray) -> None:
    """The exported model's temperature is the one its own uncalibrated probabilities on the held-out train
    photos give."""
    record = json.load(open(os.path.join(args.model_run_dir, artifacts.CALIBRATION_FILE)))
    assert record["fitted_on"] == f"{held_out.sum()} train photos held out of training"
    train_records = [r.numpy() for r in tf.data.TFRecordDataset(data.list_files(args.train_files),
                                                                compression_type="GZIP")]
    held = [r for r, hold in zip(train_records, held_out) if hold]
    calibrated = served(**{artifacts.EXAMPLES_INPUT: tf.constant(held)})["probabilities"].numpy()
    logits = calibration.log_probabilities(calibrated) * record["temperature"]  # Undo the baked-in division.
    labels = data.read_labels(args.train_files)[held_out]
    assert calibration.fit_temperature(logits, labels) == pytest.approx(record["temperature"], rel=1e-3)


@pytest.mark.parametrize("records, expected", [(100, 0), (1000, 29)])
def test_fine_tuning_rule_follows_the_train_split_size(records, expected):
    settings = types.SimpleNamespace(fine_tune_layers=29, fine_tune_epochs=8, fine_tune_learning_rate=5e-5,
                                     fine_tune_min_records=1000)
    plan = recipe.fine_tuning(settings, records)
    assert plan.layers == expected and bool(plan.epochs) == bool(expected)
    assert ("fewer than training.fine_tune_min_records" in plan.describe()) == (not expected)


def test_no_fine_tuning_when_turned_off():
    settings = types.SimpleNamespace(fine_tune_layers=0, fine_tune_epochs=8, fine_tune_learning_rate=5e-5,
                                     fine_tune_min_records=0)
    assert recipe.fine_tuning(settings, 10_000).epochs == 0


def _sources(records: list[bytes]) -> list[str]:
    return [tf.train.Example.FromString(r).features.feature["source"].bytes_list.value[0].decode() for r in records]
