"""run_fn end to end on the fixture: it learns, logs, records its history and exports both signatures."""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from components.artifacts import CLASS_NAMES_SIGNATURE, EXAMPLES_SIGNATURE, PHOTO_SIGNATURE
from components.training import TRAINER_RUN_FN, progress, trainer_custom_config
from tests.training.training_fixtures import CLASSES, IMAGE_SIZE, fn_args, training_settings


def test_run_fn_name_points_at_the_installed_function():
    module, _, name = TRAINER_RUN_FN.rpartition(".")
    assert callable(getattr(__import__(module, fromlist=[name]), name))


def test_custom_config_is_plain_json():
    import json

    config = trainer_custom_config(training_settings(), CLASSES, IMAGE_SIZE)
    assert json.loads(json.dumps(config)) == config
    assert config["classes"] == CLASSES and config["image_size"] == IMAGE_SIZE


def test_run_fn_learns_the_separable_set_above_chance(trained):
    history = trained["history"]
    assert history["train_records"] == 48 and history["eval_records"] == 18
    assert history["steps_per_epoch"] == 48 // 8 and history["global_batch_size"] == 8
    assert [e["epoch"] for e in history["epochs"]] == list(range(1, 9))
    assert history["epochs"][-1]["val_accuracy"] > 0.6  # chance is 1/3
    assert history["epochs"][-1]["loss"] < history["epochs"][0]["loss"]
    assert history["train_images_per_second"] > 0


def test_run_fn_writes_tensorboard_logs_and_a_serving_model(trained):
    args = trained["fn_args"]
    assert os.path.isdir(os.path.join(args.model_run_dir, "train"))
    assert os.path.isdir(os.path.join(args.model_run_dir, "validation"))
    assert os.path.exists(os.path.join(args.serving_model_dir, "saved_model.pb"))


def test_learning_rate_ramps_up_then_decays(trained):
    """Each epoch logs the rate of its last step: the warm-up epoch ends at the peak, then x0.8 per epoch."""
    rates = [e["learning_rate"] for e in trained["history"]["epochs"]]
    peak, steps = 4e-3 * 8 / 16, 6
    last_steps = [steps * epoch - 1 for epoch in range(2, 9)]
    assert np.isclose(rates[0], peak, rtol=1e-4)
    np.testing.assert_allclose(rates[1:], [peak * 0.8 ** ((s - steps) / steps) for s in last_steps], rtol=1e-4)


def test_examples_signature_answers_examples_with_class_names(trained, dataset):
    model = tf.saved_model.load(trained["fn_args"].serving_model_dir)
    outputs = model.signatures[EXAMPLES_SIGNATURE](examples=tf.constant(dataset["records"]["eval"]))
    assert outputs["probabilities"].shape == (18, 3)
    np.testing.assert_allclose(outputs["probabilities"].numpy().sum(axis=1), 1.0, rtol=1e-5)
    labels = [label.decode() for label in outputs["label"].numpy()]
    assert labels == [CLASSES[i] for i in outputs["class_id"].numpy()]
    names = model.signatures[CLASS_NAMES_SIGNATURE]()["class_names"].numpy()
    assert [n.decode() for n in names] == CLASSES


def test_photo_signature_on_raw_photos_agrees_with_the_examples_signature_on_their_records(trained, dataset):
    model = tf.saved_model.load(trained["fn_args"].serving_model_dir)
    paths = [p for p in dataset["photos"] if "/eval/" in p]
    raw = [open(p, "rb").read() for p in paths]
    from_photos = model.signatures[PHOTO_SIGNATURE](image_bytes=tf.constant(raw))
    from_records = model.signatures[EXAMPLES_SIGNATURE](examples=tf.constant(dataset["records"]["eval"]))
    probabilities = from_records["probabilities"].numpy()
    # The records' own JPEGs through the photo signature: the same pixels, so the same answers as the examples one.
    jpegs = [tf.train.Example.FromString(r).features.feature["image"].bytes_list.value[0]
             for r in dataset["records"]["eval"]]
    same = model.signatures[PHOTO_SIGNATURE](image_bytes=tf.constant(jpegs))
    np.testing.assert_allclose(same["probabilities"].numpy(), probabilities, atol=1e-4)
    # Raw photos differ from the records only by the ingestion's JPEG re-encoding: close answers, the same top
    # class wherever the two best classes are clearly apart.
    assert np.abs(from_photos["probabilities"].numpy() - probabilities).mean() < 0.05
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 0.3
    assert clear.sum() >= len(clear) // 2, "too few confident predictions to compare their classes"
    np.testing.assert_array_equal(from_photos["class_id"].numpy()[clear], from_records["class_id"].numpy()[clear])


def test_warm_start_loads_the_base_models_weights(trained, dataset, tmp_path):
    from components.training.trainer import run_fn

    base = trained["fn_args"].serving_model_dir
    args = fn_args(dataset["examples"], str(tmp_path), training_settings(epochs=1, warm_start=True,
                                                                          learning_rate=1e-9), base_model=base)
    run_fn(args)
    before = tf.keras.models.load_model(base, compile=False).trainable_weights
    after = tf.keras.models.load_model(args.serving_model_dir, compile=False).trainable_weights
    assert len(before) == len(after) > 0
    for old, new in zip(before, after):  # batch-norm statistics move with any training, so trainables only
        np.testing.assert_allclose(old, new, atol=1e-3)


THROWAWAY_MODEL = '''"""A throwaway model outside the models package: mean colour, a hidden layer, probabilities."""

import dataclasses

import tensorflow as tf

from components.settings import check
from components.training.models.options import Options as NoOptions


@dataclasses.dataclass(frozen=True)
class Options(NoOptions):
    units: int = 8

    def validate(self):
        check(self.units >= 1, "training.model_options.tiny_models.pooled.units", "must be at least 1")


def build(spec, options):
    image = tf.keras.Input((spec.image_size, spec.image_size, 3), name="image")
    hidden = tf.keras.layers.Dense(options.units, activation="relu")(tf.keras.layers.GlobalAveragePooling2D()(image))
    probabilities = tf.keras.layers.Dense(spec.num_classes, activation="softmax", name="probabilities")(hidden)
    return tf.keras.Model(image, probabilities, name="pooled")
'''


def test_a_model_added_as_one_file_trains_through_run_fn_with_its_own_options(dataset, tmp_path, monkeypatch):
    """Adding a model is adding one file: a module on the path, named by its dotted path, with an option of its
    own (an int that arrives as a float, as from a protobuf Struct)."""
    from components.training.trainer import run_fn

    package = tmp_path / "tiny_models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pooled.py").write_text(THROWAWAY_MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = training_settings(model="tiny_models.pooled", model_options={"tiny_models.pooled": {"units": 3.0}},
                                 epochs=1)
    args = fn_args(dataset["examples"], str(tmp_path / "out"), settings)
    run_fn(args)
    history = json.load(open(os.path.join(args.model_run_dir, progress.HISTORY_FILE)))
    assert history["model"] == "tiny_models.pooled" and len(history["epochs"]) == 1
    assert history["params"] == (3 * 3 + 3) + (3 * 3 + 3)  # Mean RGB -> 3 units -> 3 classes.
    outputs = tf.saved_model.load(args.serving_model_dir).signatures[EXAMPLES_SIGNATURE](
        examples=tf.constant(dataset["records"]["eval"]))
    assert outputs["probabilities"].shape == (18, 3)
