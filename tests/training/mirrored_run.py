"""Run by test_mirrored.py in a fresh process: split the CPU into two logical devices (which must be the first
TensorFlow call of a process), train the same model on one device and under MirroredStrategy over both, and print
the losses and head weights of each run as JSON."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
import tensorflow as tf  # noqa: E402

tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, os.getcwd())
from components.training import models, schedule  # noqa: E402


def train(strategy: tf.distribute.Strategy) -> dict:
    """Frozen-backbone MobileNetV2 (batch norm in inference mode, no dropout): replicas change only summation order."""
    tf.keras.utils.set_random_seed(0)
    images = tf.random.stateless_uniform([32, 32, 32, 3], seed=[1, 2])
    labels = tf.cast(tf.reduce_mean(images[..., 0], axis=[1, 2]) > 0.5, tf.int64)
    with strategy.scope():
        model = models.build("mobilenet_v2", models.ModelSpec(32, 2, alpha=0.35, dropout=0.0))
        model.compile(tf.keras.optimizers.Adam(schedule.WarmupDecay(0.01, 4, 1, 0.8)),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, labels, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return {"replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"],
            "head": model.get_layer("probabilities").kernel.numpy().ravel().tolist()}


if __name__ == "__main__":
    print(json.dumps({"one_device": train(tf.distribute.get_strategy()),
                      "mirrored": train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))}))
