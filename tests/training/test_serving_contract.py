"""The serving contract of a pushed version, as a client sees it: a fresh process with plain TensorFlow (no
project code) loads `<serving dir>/<version>` and answers raw photo bytes through `serving_default`, with the
labels the tf.Example signature gives their records; a photo that does not decode gets a clear error and the
process carries on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from components.artifacts import CLASS_NAMES_SIGNATURE, EXAMPLES_SIGNATURE, PHOTO_INPUT, PHOTO_SIGNATURE
from components.push.atomic import push_atomically
from tests.training.training_fixtures import CLASSES

_CLIENT = """
import json, sys
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
rows = []
for path in sys.argv[2:]:
    try:
        out = serve(image_bytes=tf.constant([open(path, "rb").read()]))
        rows.append({"label": out["label"][0].numpy().decode(), "class_id": int(out["class_id"][0]),
                     "probabilities": out["probabilities"][0].numpy().tolist()})
    except tf.errors.InvalidArgumentError as error:
        rows.append({"error": error.message})
print(json.dumps({"rows": rows, "inputs": sorted(serve.structured_input_signature[1]),
                  "outputs": sorted(serve.structured_outputs),
                  "project_code": sorted({m.split(".")[0] for m in sys.modules} & {"components", "pipeline"})}))
"""


def test_a_pushed_version_answers_photo_bytes_in_plain_tensorflow(trained, dataset, tmp_path):
    version, pushed = push_atomically(trained["fn_args"].serving_model_dir, str(tmp_path / "serving"))
    assert version == 1
    eval_photos = sorted(p for p in dataset["photos"] if "/eval/" in p)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(open(eval_photos[0], "rb").read()[:200])
    done = subprocess.run([sys.executable, "-c", _CLIENT, pushed, *eval_photos[:4], str(broken), *eval_photos[4:]],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["project_code"] == [] and answer["inputs"] == [PHOTO_INPUT]
    assert answer["outputs"] == ["class_id", "label", "probabilities"]
    rows = answer["rows"]
    assert "Invalid JPEG data" in rows.pop(4)["error"]
    assert all(row["label"] == CLASSES[row["class_id"]] for row in rows)

    records = {tf.train.Example.FromString(r).features.feature["source"].bytes_list.value[0].decode(): r
               for r in dataset["records"]["eval"]}
    model = tf.saved_model.load(pushed)
    expected = model.signatures[EXAMPLES_SIGNATURE](examples=tf.constant([records[p] for p in eval_photos]))
    assert len(rows) == len(eval_photos)
    probabilities = np.array([row["probabilities"] for row in rows])
    # Raw photos differ from their records only by ingestion's JPEG re-encoding.
    assert np.abs(probabilities - expected["probabilities"].numpy()).mean() < 0.05
    assert set(model.signatures) == {PHOTO_SIGNATURE, EXAMPLES_SIGNATURE, CLASS_NAMES_SIGNATURE}


def test_every_export_carries_warmup_requests_of_eval_photos_that_the_model_answers(trained, dataset):
    from tensorflow_serving.apis import prediction_log_pb2

    from components.training.export import WARMUP_FILE

    model_dir = trained["fn_args"].serving_model_dir
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy())
            for r in tf.data.TFRecordDataset(os.path.join(model_dir, WARMUP_FILE))]
    assert len(logs) == len(dataset["records"]["eval"])  # 18 eval records, fewer than WARMUP_PHOTOS
    eval_jpegs = {tf.train.Example.FromString(r).features.feature["image"].bytes_list.value[0]
                  for r in dataset["records"]["eval"]}
    serve = tf.saved_model.load(model_dir).signatures[PHOTO_SIGNATURE]
    for log in logs:
        request = log.predict_log.request
        assert request.model_spec.signature_name == PHOTO_SIGNATURE and list(request.inputs) == [PHOTO_INPUT]
        photos = tf.make_ndarray(request.inputs[PHOTO_INPUT])
        assert photos.shape == (1,) and photos[0] in eval_jpegs
        assert serve(**{PHOTO_INPUT: tf.constant(photos)})["label"][0].numpy().decode() in CLASSES


def test_an_empty_batch_gets_empty_outputs_of_the_right_shapes(trained):
    """Issue 20, row 8: `tf.constant([], tf.string)` is a valid request with no photo in it."""
    from components.artifacts import CLASS_ID_OUTPUT, EXAMPLES_INPUT, LABEL_OUTPUT, PROBABILITIES_OUTPUT

    loaded = tf.saved_model.load(trained["fn_args"].serving_model_dir)
    for signature, name in ((PHOTO_SIGNATURE, PHOTO_INPUT), (EXAMPLES_SIGNATURE, EXAMPLES_INPUT)):
        outputs = loaded.signatures[signature](**{name: tf.constant([], tf.string)})
        assert outputs[PROBABILITIES_OUTPUT].shape == (0, len(CLASSES))
        assert outputs[PROBABILITIES_OUTPUT].dtype == tf.float32
        assert outputs[CLASS_ID_OUTPUT].shape == outputs[LABEL_OUTPUT].shape == (0,)
        assert outputs[LABEL_OUTPUT].dtype == tf.string
