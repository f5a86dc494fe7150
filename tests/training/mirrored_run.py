"""Run by test_mirrored.py in a fresh process (`python -m tests.training.mirrored_run` from the repository root):
split the CPU into two logical devices (which must be the first TensorFlow call of a process), train on one device
and under MirroredStrategy over both, and print what each run learnt as JSON: an end-to-end fit, and the Trainer's
cached-feature phases on a tiny set of records, with the cache in memory and spilled to disk."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
import tensorflow as tf  # noqa: E402

tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np  # noqa: E402

from components.training import models, recipe, schedule, strategy, trainer  # noqa: E402
from components.training.models import mobilenet_v2, parts  # noqa: E402
from components.training.settings import TrainingSettings  # noqa: E402
from tests.training.training_fixtures import (CLASSES, FEATURE_STORES, IMAGE_SIZE, fn_args, open_test_store,  # noqa
                                              table_array, training_settings, write_split)

SPEC = models.ModelSpec(IMAGE_SIZE, len(CLASSES), fine_tune_layers=11)
OPTIONS = mobilenet_v2.Options(weights="none", alpha=0.35, dropout=0.0)


def end_to_end(strategy_: tf.distribute.Strategy) -> dict:
    """Frozen-backbone MobileNetV2 (batch norm in inference mode, no dropout): replicas change only summation order."""
    tf.keras.utils.set_random_seed(0)
    images = tf.random.stateless_uniform([32, IMAGE_SIZE, IMAGE_SIZE, 3], seed=[1, 2])
    labels = tf.cast(tf.reduce_mean(images[..., 0], axis=[1, 2]) > 0.5, tf.int64)
    with strategy_.scope():
        model = models.build("mobilenet_v2", SPEC, OPTIONS)
        model.compile(tf.keras.optimizers.Adam(schedule.WarmupDecay(0.01, 4, 1, 0.8)),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, labels, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return {"replicas": strategy_.num_replicas_in_sync, "loss": history.history["loss"],
            "head": parts.of(model).head.get_weights()[0].ravel().tolist()}


def cached_phases(strategy_: tf.distribute.Strategy, examples: str, out: str, store: str) -> dict:
    """The Trainer's feature cache (in `store`) and both phases on it, under `strategy_`, with one view per photo so
    that the random view choice cannot differ between runs."""
    settings = TrainingSettings.from_dict(training_settings(model="mobilenet_v2", epochs=2, batch_size=4,
                                                           fine_tune_layers=11, fine_tune_epochs=2,
                                                           fine_tune_learning_rate=1e-3, fine_tune_min_records=0,
                                                           seed=0))
    args = fn_args(examples, out, dataclasses.asdict(settings))
    replicas = strategy_.num_replicas_in_sync
    placement = strategy.Placement(strategy_, "mirrored" if replicas > 1 else "default", "float32", 1, False)
    tf.keras.utils.set_random_seed(0)
    with strategy_.scope():
        model = models.build("mobilenet_v2", SPEC, OPTIONS)
    run = trainer.Run(args, settings, placement, 8, (24, 6), recipe.fine_tuning(settings, 24))
    with open_test_store(store) as opened:
        cached = run.cache(parts.of(model), opened)
        probabilities = run.on_features(parts.of(model), cached)
        train_features = table_array(cached.train)[0::2]
    return {"replicas": replicas, "features": train_features.ravel()[:500].tolist(),
            "loss": [e["loss"] for e in run.progress.epochs], "probabilities": probabilities.ravel().tolist()}


def records(directory: str) -> str:
    """24 train and 6 eval records of coloured noise; each photo is its own mirror, so both views agree."""
    import io

    from PIL import Image
    from tests.training.training_fixtures import colour_photo, to_example

    rng = np.random.default_rng(5)
    split_records = {"train": [], "eval": []}
    for split, count in (("train", 8), ("eval", 2)):
        for index in range(count * len(CLASSES)):
            half = np.asarray(colour_photo(index % len(CLASSES), IMAGE_SIZE // 2, IMAGE_SIZE, rng))
            photo = Image.fromarray(np.concatenate([half, half[:, ::-1]], axis=1))
            buffer = io.BytesIO()
            photo.save(buffer, format="PNG")
            split_records[split].append(to_example(Image.open(buffer), index % len(CLASSES), f"{split}/{index}.png"))
    for split, split_records_ in split_records.items():
        write_split(directory, split, split_records_)
    return directory


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        examples = records(os.path.join(work, "examples"))
        mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        print(json.dumps({"one_device": end_to_end(tf.distribute.get_strategy()), "mirrored": end_to_end(mirrored),
                          **{f"cached_{store}": {
                              "one_device": cached_phases(tf.distribute.get_strategy(), examples,
                                                          os.path.join(work, f"one-{store}"), store),
                              "mirrored": cached_phases(mirrored, examples, os.path.join(work, f"two-{store}"), store)}
                             for store in FEATURE_STORES}}))
