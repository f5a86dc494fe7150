"""TFLite conversion of a small Keras model: the input contract phones rely on, and answers close to Keras's."""

import numpy as np
import pytest
import tensorflow as tf

from components.edge import convert
from components.edge.evaluate import TfliteModel
from components.training import models

SIZE = 32


@pytest.fixture(scope="module")
def keras_model():
    return models.build("squeezenet", models.ModelSpec(SIZE, 3))


@pytest.fixture(scope="module")
def pixel_model(keras_model):
    return convert.PixelModel(keras_model, SIZE)


@pytest.fixture(scope="module")
def photos():
    """Pixels in [0.2, 0.7] only: calibration alone would give the int8 input a range other than [0, 1]."""
    rng = np.random.default_rng(3)
    return [rng.uniform(0.2, 0.7, (SIZE, SIZE, 3)).astype(np.float32) for _ in range(8)]


def keras_probabilities(model, pixels):
    return model(pixels[np.newaxis], training=False).numpy()[0]


def test_float16_model_takes_float_pixels_and_answers_like_keras(keras_model, pixel_model, photos):
    tflite = TfliteModel(convert.to_float16(pixel_model))
    weight_types = {detail["dtype"] for detail in tflite.interpreter.get_tensor_details()}
    assert np.float16 in weight_types  # Half-size weights, not a float32 model.
    assert tflite.input["dtype"] == np.float32 and list(tflite.input["shape"]) == [1, SIZE, SIZE, 3]
    assert tflite.output["dtype"] == np.float32 and list(tflite.output["shape"]) == [1, 3]
    for pixels in photos[:3]:
        probabilities, seconds = tflite.predict(pixels)
        np.testing.assert_allclose(probabilities, keras_probabilities(keras_model, pixels), atol=1e-3)
        assert seconds > 0


def test_int8_model_takes_uint8_codes_of_unit_pixels_and_gives_uint8_probabilities(keras_model, pixel_model, photos):
    content = convert.to_int8(pixel_model, photos)
    tflite = TfliteModel(content)
    scale, zero_point = tflite.input["quantization"]
    assert tflite.input["dtype"] == np.uint8 and list(tflite.input["shape"]) == [1, SIZE, SIZE, 3]
    assert scale == pytest.approx(1 / 255) and zero_point == 0
    tflite.check_integer_input()  # What EdgeExport asserts before evaluating.
    assert tflite.output["dtype"] == np.uint8
    assert tflite.output["quantization"] == pytest.approx((1 / 256, 0))
    ops = {op["op_name"] for op in tf.lite.Interpreter(model_content=content)._get_ops_details()}
    assert "CONV_2D" in ops and not {"DEQUANTIZE"} & ops  # Integer all through (float16 weights would dequantize).
    for pixels in photos[:3]:
        probabilities, _ = tflite.predict(pixels)
        np.testing.assert_allclose(probabilities, keras_probabilities(keras_model, pixels), atol=0.05)


def test_uint8_codes_are_round_pixel_times_255():
    pixels = np.array([0.0, 1 / 255, 0.5, 254.6 / 255, 1.0, 1.2, -0.1], np.float32)
    assert convert.uint8_codes(pixels).tolist() == [0, 1, 128, 255, 255, 255, 0]
