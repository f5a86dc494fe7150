"""Keras model -> TFLite flatbuffers with TensorFlow's own converter: a float model and a full-integer one.

Contract of both: one photo, [1, S, S, 3] pixels of the fill-resized, centre-cropped photo (what ingestion stores
in the records). The float model takes float32 in [0, 1] and gives float32 probabilities; its weights are float16
(half the size, computed in float32). The integer model takes the uint8 codes of those pixels (scale 1/255, zero
point 0) and gives uint8 probabilities (scale 1/256, zero point 0); weights and activations are int8.

The converter sees concrete tf.functions over pixels that capture only the model's variables: the serving
signatures (tf.Example or photo bytes) hold string ops TFLite lacks. They are handed over in memory, and the
Keras model is traced once for both models (`PixelModel`): writing a SavedModel per model traced it twice and cost
EdgeExport about 7 s more CPU for the alpha-1.0 MobileNetV2 (61-63 s against 54-55 s, measured on 2 cores). Each
model converts its own function: converting one of two signatures of a SavedModel kept float32 weights in the
float model (measured: 8.9 MB instead of 4.5 MB). The integer model's input range is pinned to [0, 1] by a
fake-quant op: calibrated on photos, it would take the range those photos happen to span, and a phone would have
to rescale its pixels.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

INPUT_SCALE = 1.0 / 255.0
INPUT_ZERO_POINT = 0


def uint8_codes(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] float pixels as the integer model's input: round(pixel * 255)."""
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)


class PixelModel:
    """A Keras model as traced functions over one photo's pixels ([1, S, S, 3] float32 -> `probabilities`).

    The model is traced once and both conversions call that trace: tracing the Keras model is most of what a
    conversion costs. `pinned` first pins the input range to [0, 1] (for the integer model).
    """

    def __init__(self, model: tf.keras.Model, image_size: int):
        self.variables = tf.Module()  # Tracks the weights the functions capture, for the converter.
        self.variables.weights = list(model.variables)
        pixels = tf.TensorSpec([1, image_size, image_size, 3], tf.float32, name="pixels")
        self.probabilities = tf.function(
            lambda pixels: {"probabilities": tf.cast(model(pixels, training=False), tf.float32)},
            input_signature=[pixels])
        self.pinned = tf.function(
            lambda pixels: self.probabilities(
                tf.quantization.fake_quant_with_min_max_args(pixels, min=0.0, max=1.0, num_bits=8)),
            input_signature=[pixels])

    def convert(self, function: tf.types.experimental.GenericFunction,
                configure: Callable[[tf.lite.TFLiteConverter], None]) -> bytes:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()],
                                                                    self.variables)
        configure(converter)
        return converter.convert()


def to_float16(model: PixelModel) -> bytes:
    """The float model: float16 weights, float32 input and output."""
    def configure(converter: tf.lite.TFLiteConverter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]

    return model.convert(model.probabilities, configure)


def to_int8(model: PixelModel, calibration: Iterable[np.ndarray]) -> bytes:
    """The full-integer model, calibrated on `calibration` ([S, S, 3] float pixels in [0, 1], e.g. train photos)."""
    samples = [np.asarray(pixels, np.float32)[np.newaxis] for pixels in calibration]
    if not samples:
        raise ValueError("int8 conversion needs at least one calibration photo")

    def configure(converter: tf.lite.TFLiteConverter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([sample] for sample in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8

    return model.convert(model.pinned, configure)
