"""The serving SavedModel: photo bytes in by default, tf.Examples under their own name, the class names inside.

- `serving_default` (PHOTO_SIGNATURE): `image_bytes`, encoded photos of any size and format (JPEG, PNG, GIF,
  BMP) -> outputs; what TF Serving, Vertex endpoints and `flowers-pipeline predict` call. The graph applies
  ingestion's resize and centre crop, so a client sends a photo as it is (the input name ends in `_bytes` so
  TF Serving's REST API decodes `{"b64": ...}` values into it). EXIF orientation is not applied in the graph
  (TensorFlow cannot read it); `predict.py` applies it on the host before sending.
- `serving_examples` (EXAMPLES_SIGNATURE): `examples`, serialized tf.Examples as ingestion writes them ->
  outputs; what TFMA evaluates (the Evaluator's ModelSpec.signature_name) and what BulkInferrer-style jobs feed.
- `class_names`: no input -> every class name, in class-index order.
Outputs: `probabilities` float32 [N, classes], `class_id` int64 [N], `label` string [N].
"""

from __future__ import annotations

import tensorflow as tf

from components.training.data import decode_record_image
from components.training.photo_input import DEFAULT_MAX_PIXELS, photo_to_input

PHOTO_SIGNATURE = "serving_default"
EXAMPLES_SIGNATURE = "serving_examples"
CLASS_NAMES_SIGNATURE = "class_names"
PHOTO_INPUT = "image_bytes"
EXAMPLES_INPUT = "examples"
SIGNATURES = (PHOTO_SIGNATURE, EXAMPLES_SIGNATURE, CLASS_NAMES_SIGNATURE)


def signatures(model: tf.keras.Model, classes: list[str], image_size: int,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """The tf.functions to save with the model; each maps a batch of strings to the outputs.

    Photos are decoded one at a time (`parallel_iterations=1`): the memory of a call is then one photo within
    `max_pixels`, whatever the batch holds.
    """
    names = tf.constant(classes)
    image_spec = tf.TensorSpec([image_size, image_size, 3], tf.float32)

    def outputs(images: tf.Tensor) -> dict:
        probabilities = tf.cast(model(images, training=False), tf.float32)
        class_id = tf.argmax(probabilities, axis=-1)
        return {"probabilities": probabilities, "class_id": class_id, "label": tf.gather(names, class_id)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=PHOTO_INPUT)])
    def serve_photos(image_bytes):
        return outputs(tf.map_fn(lambda encoded: photo_to_input(encoded, image_size, max_pixels), image_bytes,
                                 fn_output_signature=image_spec, parallel_iterations=1))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve_examples(examples):
        jpegs = tf.io.parse_example(examples, {"image": tf.io.FixedLenFeature([], tf.string)})["image"]
        return outputs(tf.map_fn(lambda jpeg: decode_record_image(jpeg, image_size), jpegs,
                                 fn_output_signature=image_spec))

    @tf.function(input_signature=[])
    def class_names():
        return {"class_names": names}

    return {PHOTO_SIGNATURE: serve_photos, EXAMPLES_SIGNATURE: serve_examples, CLASS_NAMES_SIGNATURE: class_names}


def export(model: tf.keras.Model, classes: list[str], image_size: int, directory: str,
           options: tf.saved_model.SaveOptions | None = None, max_image_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Save for serving (no optimizer state: the Evaluator, the Pusher and clients need none); photos over
    `max_image_pixels` (ingestion's data.max_image_pixels) are refused by the photo signature."""
    model.save(directory, save_format="tf", include_optimizer=False, options=options,
               signatures=signatures(model, classes, image_size, max_image_pixels))
