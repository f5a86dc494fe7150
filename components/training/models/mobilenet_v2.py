"""MobileNetV2 transfer learning: a frozen ImageNet backbone with a pooling + dropout + Dense head."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import tensorflow as tf

from components.errors import UserError
from components.settings import check
from components.training.models import parts
from components.training.models.options import Options as NoOptions
from components.training.settings import model_option

# Keras' MobileNetV2 widths and the output channels of their last block (block_16_project).
_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
BUNDLED_WEIGHTS = (Path(__file__).resolve().parents[3] / "data" / "weights" /
                   "mobilenet_v2_0.35_224_no_top_from_teachable_machine.h5")
_NOT_FILES = ("imagenet", "none")
_WEIGHTS, _ALPHA, _DROPOUT = (model_option("mobilenet_v2", name) for name in ("weights", "alpha", "dropout"))


@dataclasses.dataclass(frozen=True)
class Options(NoOptions):
    """`training.model_options.mobilenet_v2.*`."""

    weights: str = str(BUNDLED_WEIGHTS)  # "imagenet", "none" or a path to a Keras .h5 backbone.
    alpha: float = 0.0  # Width; 0 = follow the weights file (1.0 for imagenet/none).
    dropout: float = 0.2

    def validate(self) -> None:
        check(self.weights != "", _WEIGHTS, "must be imagenet, none or a file path")
        check(self.alpha == 0.0 or 0.0 < self.alpha <= 2.0, _ALPHA, "must be 0 (auto) or in (0, 2]")
        check(0.0 <= self.dropout < 1.0, _DROPOUT, "must be in [0, 1)")

    def check_files(self) -> None:
        resolve_alpha(self.weights, self.alpha)

    def local_files(self) -> tuple[str, ...]:
        return () if self.weights in _NOT_FILES else ("weights",)

    def without_downloads(self) -> "Options":
        """No weights, at the width the weights file would give (the file only decides it)."""
        return dataclasses.replace(self, weights="none", alpha=resolve_alpha(self.weights, self.alpha))

    def describe(self) -> str:
        return f"alpha {resolve_alpha(self.weights, self.alpha)}"


def build(spec, options: Options) -> tf.keras.Model:
    """Input: pixels in [0, 1], rescaled in the model to the [-1, 1] MobileNetV2 was trained on.

    Built as parts (see `parts`): the backbone below its top `spec.fine_tune_layers` layers is frozen; those
    top layers start frozen and are trained in the fine-tuning phase. The backbone always runs in inference
    mode (`training=False`), so its batch-norm statistics stay those of ImageNet.
    """
    alpha = resolve_alpha(options.weights, options.alpha)
    shape = (spec.image_size, spec.image_size, 3)
    backbone = tf.keras.applications.MobileNetV2(input_shape=shape, alpha=alpha, include_top=False,
                                                 weights=None if options.weights == "none" else options.weights)
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
                                          name="probabilities")(tf.keras.layers.Dropout(options.dropout)(pooled))
    head = tf.keras.Model(pooled, probabilities, name=parts.HEAD)
    return parts.compose(tf.keras.Input(shape, name="image"), frozen, tuned, head, name="mobilenet_v2")


def resolve_alpha(weights: str, alpha: float) -> float:
    """The width to build: the weights file's own (a different configured alpha is an error), else alpha or 1.0."""
    if weights in _NOT_FILES:
        return alpha or 1.0
    file_alpha = alpha_of_weights_file(weights)
    if alpha and alpha != file_alpha:
        raise UserError(f"{_ALPHA}: {alpha} does not match the weights file {weights}, which holds a "
                        f"MobileNetV2 of alpha {file_alpha}; set {_ALPHA}=0 to follow the file")
    return file_alpha


def alpha_of_weights_file(path: str) -> float:
    """Read the width from the last block's kernel shape, so a file can never be loaded at the wrong alpha."""
    import h5py

    if not os.path.isfile(path):
        raise UserError(f"{_WEIGHTS}: {path!r} is not a file; use imagenet, none or a Keras .h5 "
                        "MobileNetV2 backbone (include_top=False)")
    try:
        with h5py.File(path, "r") as weights_file:
            channels = weights_file["block_16_project/block_16_project/kernel:0"].shape[-1]
    except (OSError, KeyError) as error:
        raise UserError(f"{_WEIGHTS}: {path} is not a Keras MobileNetV2 .h5 weights file ({error})") from None
    for alpha in _ALPHAS:
        if _make_divisible(320 * alpha) == channels:
            return alpha
    raise UserError(f"{_WEIGHTS}: {path} has {channels} channels in its last block, "
                    f"which matches no MobileNetV2 alpha of {_ALPHAS}")


def _make_divisible(value: float, divisor: int = 8) -> int:
    """Keras' channel rounding in MobileNetV2."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded
