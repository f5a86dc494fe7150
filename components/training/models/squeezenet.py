"""SqueezeNet from scratch, the Keras-on-TPU codelab's architecture (120,613 parameters at 192 px, 5 classes)."""

from __future__ import annotations

import tensorflow as tf


def build(spec, options) -> tf.keras.Model:  # noqa: ARG001 - it declares no options.
    """Input: pixels in [0, 1]; output: class probabilities (float32 even under mixed precision).

    Trained from scratch end to end: no options, and no parts to fine-tune (`spec.fine_tune_layers` is ignored).
    """
    inputs = tf.keras.Input((spec.image_size, spec.image_size, 3), name="image")
    x = _conv(inputs, 32, 3)
    x = _fire(x, 24, 48)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = _fire(x, 48, 96)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = _fire(x, 64, 128)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = _fire(x, 48, 96)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = _fire(x, 24, 48)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(spec.num_classes, activation="softmax", dtype="float32",
                                    name="probabilities")(x)
    return tf.keras.Model(inputs, outputs, name="squeezenet")


def _conv(x, filters: int, kernel_size: int):
    x = tf.keras.layers.Conv2D(filters, kernel_size, padding="same", activation="relu")(x)
    return tf.keras.layers.BatchNormalization(momentum=0.9)(x)


def _fire(x, squeeze: int, expand: int):
    y = _conv(x, squeeze, 1)
    y1 = _conv(y, expand // 2, 1)
    y3 = _conv(y, expand // 2, 3)
    return tf.keras.layers.concatenate([y1, y3])
