"""Decompression bombs and strips against the exported model: through `serving_default` loaded by plain
TensorFlow and through `flowers-pipeline predict`, each in a fresh process whose peak memory is measured
against the same call on ordinary photos; the ordinary photos of the same call are still answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.training.training_fixtures import CLASSES, gif_with_frame, zeros_png

MEMORY_MARGIN_KB = 300 * 1024
_QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

# Plain TensorFlow only: what a TF Serving-like client process does with the pushed model.
_PLAIN_TF_SERVER = """
import json, resource, sys
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
answers = []
for path in sys.argv[2:]:
    try:
        label = serve(image_bytes=tf.constant([open(path, "rb").read()]))["label"][0]
        answers.append({"label": label.numpy().decode()})
    except tf.errors.InvalidArgumentError as error:
        answers.append({"error": error.message})
print(json.dumps({"answers": answers, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "project_code": sorted({m.split(".")[0] for m in sys.modules} & {"components", "pipeline"})}))
"""

_PREDICT_CLI = """
import contextlib, io, json, resource, sys
from pipeline.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = main(["predict", "--format", "json", "--model-dir", *sys.argv[1:]])
print(json.dumps({"status": status, "answers": [json.loads(line) for line in out.getvalue().splitlines()],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@pytest.fixture(scope="module")
def hostile(dataset, tmp_path_factory):
    """Two ordinary eval photos, the 30000x30000 PNG bomb (~110 KB) and 1x100000 / 100000x1 strips."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = {"bomb": folder / "bomb.png", "tall": folder / "tall.png", "wide": folder / "wide.png"}
    for (name, path), size in zip(paths.items(), ((30000, 30000), (1, 100000), (100000, 1))):
        path.write_bytes(zeros_png(*size))
    for side in (20000, 65535):  # Issue 20, row 1: one frame of side x side under a 64x64 logical screen.
        paths[f"gif{side}"] = folder / f"hidden_frame_{side}.gif"
        paths[f"gif{side}"].write_bytes(gif_with_frame(side, side))
    ordinary = sorted(p for p in dataset["photos"] if "/eval/" in p)[:2]
    return {"ordinary": ordinary, **{name: str(path) for name, path in paths.items()}}


def _run(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=_QUIET,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _attack(hostile) -> list[str]:
    first, second = hostile["ordinary"]
    return [first, hostile["tall"], hostile["bomb"], hostile["wide"], second]


def test_plain_tensorflow_refuses_bombs_and_strips_within_the_memory_of_ordinary_photos(trained, hostile):
    model = trained["fn_args"].serving_model_dir
    ordinary = _run(_PLAIN_TF_SERVER, model, *hostile["ordinary"])
    attacked = _run(_PLAIN_TF_SERVER, model, *_attack(hostile))
    assert attacked["project_code"] == []
    answers = attacked["answers"]
    assert [_rounded(answers[0]), _rounded(answers[4])] == [_rounded(a) for a in ordinary["answers"]]
    assert answers[0]["label"] in CLASSES
    assert "photo refused: 1x100000 is more elongated than 50:1" in answers[1]["error"]
    assert "photo refused: 30000x30000 = 900000000 pixels, over the limit of 50000000" in answers[2]["error"]
    assert "photo refused: 100000x1 is more elongated" in answers[3]["error"]
    assert attacked["maxrss_kb"] <= ordinary["maxrss_kb"] + MEMORY_MARGIN_KB


def test_predict_answers_every_other_photo_of_the_call_within_the_memory_of_ordinary_photos(trained, hostile):
    model = trained["fn_args"].serving_model_dir
    ordinary = _run(_PREDICT_CLI, model, *hostile["ordinary"])
    attacked = _run(_PREDICT_CLI, model, *_attack(hostile))
    answers = attacked["answers"]
    assert attacked["status"] == 1 and [a["path"] for a in answers] == _attack(hostile)
    assert [_rounded(answers[0]), _rounded(answers[4])] == [_rounded(a) for a in ordinary["answers"]]
    assert answers[0]["label"] in CLASSES
    assert answers[1]["error"] == "photo refused: 1x100000 is more elongated than 50:1"
    assert answers[2]["error"].startswith("photo refused: ")  # Pillow's own bomb check, before any decoding
    assert answers[3]["error"] == "photo refused: 100000x1 is more elongated than 50:1"
    assert attacked["maxrss_kb"] <= ordinary["maxrss_kb"] + MEMORY_MARGIN_KB


def test_predict_streams_each_batch_as_it_is_answered(trained, hostile):
    from components.training.predict import Predictor

    read = []

    def paths():
        for path in [*hostile["ordinary"], hostile["bomb"]] * 3:
            read.append(path)
            yield path

    answers = Predictor(trained["fn_args"].serving_model_dir).predict(paths(), batch_size=2)
    first = next(answers)
    assert first.label in CLASSES and len(read) == 2  # the first batch is out before the rest is read
    assert len(list(answers)) == 8 and len(read) == 9


@pytest.mark.parametrize("script", [_PLAIN_TF_SERVER, _PREDICT_CLI], ids=["serving_default", "predict"])
def test_a_gif_frame_larger_than_its_screen_is_refused_within_the_memory_of_ordinary_photos(trained, hostile, script):
    """The frame's own size counts, in plain TensorFlow (the model's graph) and in `predict` (the host check)."""
    model = trained["fn_args"].serving_model_dir
    first, second = hostile["ordinary"]
    ordinary = _run(script, model, first, second)
    attacked = _run(script, model, first, hostile["gif20000"], hostile["gif65535"], second)
    answers = attacked["answers"]
    assert [answers[0], answers[3]] == ordinary["answers"]
    for answer, side in zip(answers[1:3], (20000, 65535)):
        assert (f"photo refused: 64x64, a frame of {side}x{side} = {side * side} pixels, over the limit of 50000000"
                in answer["error"])
    assert attacked["maxrss_kb"] <= ordinary["maxrss_kb"] + MEMORY_MARGIN_KB


def _rounded(value):
    """An answer with its probabilities to 6 places: a photo's batch mates move float sums by ~1e-8."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return [_rounded(item) for item in value] if isinstance(value, list) else value
