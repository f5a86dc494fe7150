"""Run by path in a fresh process, with nothing but TensorFlow: load a candidate SavedModel as a model server
would and answer sample photos through each serving signature. Prints one JSON line of what it saw; judging it
is `serving_check.py`'s job.

    python serving_probe.py MODEL_DIR PHOTOS_TFRECORD
"""

import json
import resource
import sys
import time

import tensorflow as tf


def probe(model_dir: str, photos_file: str) -> dict:
    started = time.monotonic()
    photos = [record.numpy() for record in tf.data.TFRecordDataset(photos_file)]
    seen = {"signatures": {}}
    model = tf.saved_model.load(model_dir)
    seen["load_seconds"] = time.monotonic() - started
    examples = [tf.train.Example(features=tf.train.Features(feature={"image": tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[photo]))})).SerializeToString() for photo in photos]
    batches = {"serving_default": ("image_bytes", photos), "serving_examples": ("examples", examples),
               "class_names": (None, None)}
    for name, (input_name, batch) in batches.items():
        seen["signatures"][name] = _answer(model, name, input_name, batch)
    seen["seconds"] = time.monotonic() - started
    seen["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return seen


def _answer(model, name: str, input_name, batch) -> dict:
    signature = model.signatures.get(name)
    if signature is None:
        return {"error": "no such signature"}
    inputs = sorted(signature.structured_input_signature[1])
    if inputs != ([input_name] if input_name else []):
        return {"error": f"takes {inputs or 'no input'}, expected {input_name or 'no input'}"}
    try:
        outputs = signature(**({input_name: tf.constant(batch)} if input_name else {}))
    except (tf.errors.OpError, TypeError, ValueError) as error:
        return {"error": getattr(error, "message", str(error))}
    return {key: _plain(value.numpy()) for key, value in outputs.items()}


def _plain(array):
    values = array.tolist()
    if array.dtype == object:
        return [v.decode("utf-8", "replace") for v in values]
    return values


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], sys.argv[2])))
