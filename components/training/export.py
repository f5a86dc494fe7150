"""The serving SavedModel: photo bytes in by default, tf.Examples under their own name, the class names inside.

- `serving_default` (PHOTO_SIGNATURE): `image_bytes`, encoded photos of any size and format (JPEG, PNG, GIF,
  BMP) -> outputs; what TF Serving, Vertex endpoints and `flowers-pipeline predict` call. The graph applies
  ingestion's resize and centre crop, so a client sends a photo as it is (the input name ends in `_bytes` so
  TF Serving's REST API decodes `{"b64": ...}` values into it). EXIF orientation is not applied in the graph
  (TensorFlow cannot read it); `predict.py` applies it on the host before sending.
- `serving_examples` (EXAMPLES_SIGNATURE): `examples`, serialized tf.Examples as ingestion writes them ->
  outputs; what TFMA evaluates (the Evaluator's ModelSpec.signature_name) and what BulkInferrer-style jobs feed.
- `class_names`: no input -> every class name, in class-index order.
Outputs: `probabilities` float32 [N, classes], `class_id` int64 [N], `label` string [N]. Every name here is
defined in `components.artifacts`, which the Evaluator, the pusher's serving check and `predict` import too.

`assets.extra/tf_serving_warmup_requests` holds PredictionLog records of real eval photos for `serving_default`:
TF Serving replays them at load time, so the first client request is not the one that pays for initialisation.
"""

from __future__ import annotations

import os

import tensorflow as tf

from components.artifacts import (CLASS_ID_OUTPUT, CLASS_NAMES_OUTPUT, CLASS_NAMES_SIGNATURE, EXAMPLES_INPUT,
                                  EXAMPLES_SIGNATURE, IMAGE_FEATURE, LABEL_OUTPUT, PHOTO_INPUT, PHOTO_SIGNATURE,
                                  PROBABILITIES_OUTPUT)
from components.training.data import decode_record_image, list_files
from components.training.photo_input import DEFAULT_MAX_PIXELS, photo_to_input

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
WARMUP_PHOTOS = 32  # TF Serving reads at most 1,000; a few dozen cover its lazy initialisation.


def signatures(model: tf.keras.Model, classes: list[str], image_size: int,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """The tf.functions to save with the model; each maps a batch of strings to the outputs.

    Photos are decoded one at a time (`parallel_iterations=1`): the memory of a call is then one photo within
    `max_pixels`, whatever the batch holds.
    """
    names = tf.constant(classes)
    image_spec = tf.TensorSpec([image_size, image_size, 3], tf.float32)

    def outputs(images: tf.Tensor) -> dict:
        """An empty batch gets empty outputs of the right shapes: the convolutions cannot run on zero images."""
        probabilities = tf.cond(tf.shape(images)[0] > 0, lambda: tf.cast(model(images, training=False), tf.float32),
                                lambda: tf.zeros([0, len(classes)], tf.float32))
        class_id = tf.argmax(probabilities, axis=-1)
        return {PROBABILITIES_OUTPUT: probabilities, CLASS_ID_OUTPUT: class_id,
                LABEL_OUTPUT: tf.gather(names, class_id)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=PHOTO_INPUT)])
    def serve_photos(image_bytes):
        return outputs(tf.map_fn(lambda encoded: photo_to_input(encoded, image_size, max_pixels), image_bytes,
                                 fn_output_signature=image_spec, parallel_iterations=1))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve_examples(examples):
        jpegs = tf.io.parse_example(examples, {IMAGE_FEATURE: tf.io.FixedLenFeature([], tf.string)})[IMAGE_FEATURE]
        return outputs(tf.map_fn(lambda jpeg: decode_record_image(jpeg, image_size), jpegs,
                                 fn_output_signature=image_spec))

    @tf.function(input_signature=[])
    def class_names():
        return {CLASS_NAMES_OUTPUT: names}

    return {PHOTO_SIGNATURE: serve_photos, EXAMPLES_SIGNATURE: serve_examples, CLASS_NAMES_SIGNATURE: class_names}


def export(model: tf.keras.Model, classes: list[str], image_size: int, directory: str,
           options: tf.saved_model.SaveOptions | None = None, max_image_pixels: int = DEFAULT_MAX_PIXELS,
           warmup_records: list[str] | None = None) -> None:
    """Save for serving: no optimizer state and no per-layer traces (`save_traces`, most of the export time;
    the signatures serve, and Keras rebuilds the model from its config for warm starts); photos over
    `max_image_pixels` (ingestion's data.max_image_pixels) are refused by the photo signature. With
    `warmup_records` (TFRecord patterns of the eval split), the warmup file holds their first photos."""
    model.save(directory, save_format="tf", include_optimizer=False, save_traces=False, options=options,
               signatures=signatures(model, classes, image_size, max_image_pixels))
    if warmup_records:
        write_warmup_requests(directory, record_photos(warmup_records, WARMUP_PHOTOS))


def record_photos(patterns: list[str], count: int) -> list[bytes]:
    """The `image` (JPEG) of the first `count` ingested records matching the patterns."""
    feature = {IMAGE_FEATURE: tf.io.FixedLenFeature([], tf.string)}
    records = tf.data.TFRecordDataset(list_files(patterns), compression_type="GZIP").take(count)
    return [tf.io.parse_single_example(record, feature)[IMAGE_FEATURE].numpy() for record in records]


def write_warmup_requests(directory: str, photos: list[bytes]) -> str:
    """One PredictionLog per photo, a one-photo request to `serving_default`; returns the file's path."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = os.path.join(directory, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for photo in photos:
            request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(signature_name=PHOTO_SIGNATURE))
            request.inputs[PHOTO_INPUT].CopyFrom(tf.make_tensor_proto([photo], dtype=tf.string))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def read_warmup_photos(directory: str) -> list[bytes]:
    """The photos of a version's warmup requests, in order (what the pre-push serving check sends)."""
    from tensorflow_serving.apis import prediction_log_pb2

    path = os.path.join(directory, WARMUP_FILE)
    if not tf.io.gfile.exists(path):
        return []
    photos = []
    for record in tf.data.TFRecordDataset(path):
        request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
        photos += list(tf.make_ndarray(request.inputs[PHOTO_INPUT]).ravel())
    return photos
