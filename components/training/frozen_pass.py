"""How the feature pass runs the frozen part: TensorFlow's Keras layers, or the same graph on the TFLite interpreter.

On a CPU, TensorFlow ran the alpha-1.0 MobileNetV2's frozen part at about 140 photos/s on this 2-core machine
(batches of 16, 192 px); converted to a float32 TFLite model (no quantization: the same arithmetic up to rounding,
about 4e-5 apart on activations of order 1) XNNPACK ran it at about 480, and the conversion took about 2 s. So on
a host that trains on its CPU (no TPU, no GPU, one replica) with `training.tflite_feature_pass` on, the
interpreter computes the cache; training, evaluation and the exported model still run the Keras layers. A frozen
part that does not convert (a model module with ops TFLite lacks), or whose TFLite model differs from Keras by
more than MAX_DIFFERENCE on a batch of random pixels, runs on Keras instead; so does a pass of fewer views than
`training.tflite_feature_pass_min_views`: conversion and check take 3-4 s and save about 5 ms a view (1/142 s
against 1/480 s), so below about 700 views (the bundled sample has 361) they cost more than they save. The
training history says which engine ran and why.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
import tensorflow as tf

from components.training import features
from components.training.strategy import Placement

KERAS, TFLITE = "keras", "tflite"
MAX_DIFFERENCE = 1e-3  # Largest |TFLite - Keras| on the check batch, relative to its largest Keras activation.


@dataclasses.dataclass(frozen=True)
class FrozenPass:
    """A batch of exactly `batch` images -> the frozen part's activations (float32), and how it runs."""

    run: features.Forward
    engine: str
    reason: str


def choose(frozen: tf.keras.Model, placement: Placement, batch: int, enabled: bool, views: int | None = None,
           min_views: int = 0) -> FrozenPass:
    """The TFLite pass where it helps and works (see the module docstring), else Keras. `views`: how many the pass
    will run, if known."""
    keras = features.keras_forward(frozen)
    if not enabled:
        return FrozenPass(keras, KERAS, "training.tflite_feature_pass is false")
    if views is not None and views < min_views:
        return FrozenPass(keras, KERAS, f"{views} views, fewer than training.tflite_feature_pass_min_views "
                                        f"({min_views}): converting would cost more than it saves")
    if not cpu_only(placement):
        return FrozenPass(keras, KERAS, f"the {placement.kind} placement trains on an accelerator or on "
                                        f"{placement.replicas} replicas")
    started = time.perf_counter()
    try:
        lite = _interpreter(frozen, batch)
    except Exception as error:  # A converter error must not stop training: Keras runs every model.
        lines = str(error).strip().splitlines()
        return FrozenPass(keras, KERAS, f"the frozen part did not convert to TFLite ({type(error).__name__}: "
                                        f"{lines[0] if lines else ''})")
    images = np.random.default_rng(0).uniform(size=(batch, *frozen.input_shape[1:])).astype(np.float32)
    expected = keras(images)
    difference = float(np.max(np.abs(lite(images) - expected)) / max(1e-6, float(np.max(np.abs(expected)))))
    if not difference <= MAX_DIFFERENCE:  # NaN included.
        return FrozenPass(keras, KERAS, f"its TFLite model differed from Keras by {difference:.2g} of the largest "
                                        f"activation on a batch of random pixels (more than {MAX_DIFFERENCE:g})")
    return FrozenPass(lite, TFLITE, f"converted to TFLite and checked against Keras in "
                                    f"{time.perf_counter() - started:.1f} s ({difference:.1g} of the largest "
                                    "activation apart on a batch of random pixels)")


def cpu_only(placement: Placement) -> bool:
    """Whether training runs on one CPU device: the default or one-device strategy with no GPU visible."""
    if placement.kind == "cpu":
        return True
    return placement.kind == "default" and placement.replicas == 1 and not tf.config.list_physical_devices("GPU")


def _interpreter(frozen: tf.keras.Model, batch: int) -> features.Forward:
    """The frozen part as a float32 TFLite model for batches of `batch`, on as many threads as this process may
    use; its calls run one at a time."""
    shape = [batch, *frozen.input_shape[1:]]
    function = tf.function(lambda images: frozen(images, training=False),
                           input_signature=[tf.TensorSpec(shape, tf.float32)])
    weights = tf.Module()  # Tracks the variables the function captures, for the converter.
    weights.variables_list = list(frozen.variables)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], weights)
    interpreter = tf.lite.Interpreter(model_content=converter.convert(), num_threads=len(os.sched_getaffinity(0)))
    interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]

    def run(images: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(source, np.asarray(images, np.float32))
        interpreter.invoke()
        return interpreter.get_tensor(target).copy()

    return run
