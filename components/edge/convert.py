"""Keras model -> TFLite flatbuffers with TensorFlow's own converter: a float model and a full-integer one.

Contract of both: one photo, [1, S, S, 3] pixels of the fill-resized, centre-cropped photo (what ingestion stores
in the records). The float model takes float32 in [0, 1] and gives float32 probabilities; its weights are float16
(half the size, computed in float32). The integer model takes the uint8 codes of those pixels (scale 1/255, zero
point 0) and gives uint8 probabilities (scale 1/256, zero point 0); weights and activations are int8.

The converter sees a SavedModel of one tf.function over pixels that captures only the model's variables: the
serving signatures (tf.Example or photo bytes) hold string ops TFLite lacks, and saving the whole Keras object
would trace every layer again. Each model gets its own SavedModel: converting one signature of a SavedModel that
holds both silently kept float32 weights in the float model (measured: 8.9 MB instead of 4.5 MB). The integer model's input range is pinned to [0, 1] by a fake-quant op: calibrated
on photos, it would take the range those photos happen to span, and a phone would have to rescale its pixels.
"""

from __future__ import annotations

import os
import tempfile
from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

INPUT_SCALE = 1.0 / 255.0
INPUT_ZERO_POINT = 0


def uint8_codes(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] float pixels as the integer model's input: round(pixel * 255)."""
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_float16(model: tf.keras.Model, image_size: int) -> bytes:
    """The float model: float16 weights, float32 input and output."""
    def configure(converter: tf.lite.TFLiteConverter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]

    return _convert(model, image_size, pin_input_range=False, configure=configure)


def to_int8(model: tf.keras.Model, image_size: int, calibration: Iterable[np.ndarray]) -> bytes:
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

    return _convert(model, image_size, pin_input_range=True, configure=configure)


def _convert(model: tf.keras.Model, image_size: int, pin_input_range: bool,
             configure: Callable[[tf.lite.TFLiteConverter], None]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="edge-") as work_dir:
        saved_model = os.path.join(work_dir, "pixels")
        save_pixel_function(model, image_size, saved_model, pin_input_range)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
        configure(converter)
        return converter.convert()


def save_pixel_function(model: tf.keras.Model, image_size: int, directory: str, pin_input_range: bool) -> None:
    """A SavedModel whose serving_default maps `pixels` [1, S, S, 3] float32 to `probabilities`."""
    module = tf.Module()
    module.weights = list(model.variables)  # Tracked, so the saved function may capture them.

    @tf.function(input_signature=[tf.TensorSpec([1, image_size, image_size, 3], tf.float32, name="pixels")])
    def probabilities(pixels):
        if pin_input_range:
            pixels = tf.quantization.fake_quant_with_min_max_args(pixels, min=0.0, max=1.0, num_bits=8)
        return {"probabilities": tf.cast(model(pixels, training=False), tf.float32)}

    module.probabilities = probabilities
    tf.saved_model.save(module, directory, signatures={"serving_default": probabilities})
