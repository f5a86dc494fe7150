"""MobileNetV2 transfer learning: a frozen ImageNet backbone with a pooling + dropout + Dense head."""

from __future__ import annotations

import os

import tensorflow as tf

from components.errors import UserError
from components.training.models import parts

# Keras' MobileNetV2 widths and the output channels of their last block (block_16_project).
_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


def build(spec) -> tf.keras.Model:
    """Input: pixels in [0, 1], rescaled in the model to the [-1, 1] MobileNetV2 was trained on.

    Built as parts (see `parts`): the backbone below its top `spec.fine_tune_layers` layers is frozen; those
    top layers start frozen and are trained in the fine-tuning phase. The backbone always runs in inference
    mode (`training=False`), so its batch-norm statistics stay those of ImageNet.
    """
    alpha = resolve_alpha(spec.weights, spec.alpha)
    shape = (spec.image_size, spec.image_size, 3)
    backbone = tf.keras.applications.MobileNetV2(input_shape=shape, alpha=alpha, include_top=False,
                                                 weights=None if spec.weights == "none" else spec.weights)
    bottom, top = parts.split_top(backbone, spec.fine_tune_layers) if spec.fine_tune_layers else (backbone, None)

    pixels = tf.keras.Input(shape, name="pixels")
    frozen = tf.keras.Model(pixels, bottom(tf.keras.layers.Rescaling(2.0, offset=-1.0)(pixels), training=False),
                            name=parts.FROZEN)
    frozen.trainable = False

    cut = tf.keras.Input(bottom.output.shape[1:], name="cut")
    tuned = tf.keras.layers.GlobalAveragePooling2D()(top(cut, training=False) if top else cut)
    tuned = tf.keras.Model(cut, tuned, name=parts.TUNED)
    tuned.trainable = False

    pooled = tf.keras.Input(tuned.output.shape[1:], name="pooled")
    probabilities = tf.keras.layers.Dense(spec.num_classes, activation="softmax", dtype="float32",
                                          name="probabilities")(tf.keras.layers.Dropout(spec.dropout)(pooled))
    head = tf.keras.Model(pooled, probabilities, name=parts.HEAD)
    return parts.compose(tf.keras.Input(shape, name="image"), frozen, tuned, head, name="mobilenet_v2")


def resolve_alpha(weights: str, alpha: float) -> float:
    """The width to build: the weights file's own (a different configured alpha is an error), else alpha or 1.0."""
    if weights in ("imagenet", "none"):
        return alpha or 1.0
    file_alpha = alpha_of_weights_file(weights)
    if alpha and alpha != file_alpha:
        raise UserError(f"training.alpha: {alpha} does not match the weights file {weights}, which holds a "
                        f"MobileNetV2 of alpha {file_alpha}; set training.alpha=0 to follow the file")
    return file_alpha


def alpha_of_weights_file(path: str) -> float:
    """Read the width from the last block's kernel shape, so a file can never be loaded at the wrong alpha."""
    import h5py

    if not os.path.isfile(path):
        raise UserError(f"training.weights: {path!r} is not a file; use imagenet, none or a Keras .h5 "
                        "MobileNetV2 backbone (include_top=False)")
    try:
        with h5py.File(path, "r") as weights_file:
            channels = weights_file["block_16_project/block_16_project/kernel:0"].shape[-1]
    except (OSError, KeyError) as error:
        raise UserError(f"training.weights: {path} is not a Keras MobileNetV2 .h5 weights file ({error})") from None
    for alpha in _ALPHAS:
        if _make_divisible(320 * alpha) == channels:
            return alpha
    raise UserError(f"training.weights: {path} has {channels} channels in its last block, "
                    f"which matches no MobileNetV2 alpha of {_ALPHAS}")


def _make_divisible(value: float, divisor: int = 8) -> int:
    """Keras' channel rounding in MobileNetV2."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded
