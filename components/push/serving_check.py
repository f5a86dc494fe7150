"""The pre-push serving check: before a version is written, a fresh process loads the candidate with plain
TensorFlow (`serving_probe.py`, run by path, so no project code is imported) and answers the candidate's own
warmup photos (real eval photos, see `components/training/export.py`) through every signature.

It passes when each signature answers, within `timeout_s` and `max_rss_mb`; probabilities are finite, one per
class name, summing to one; `class_id` is their argmax and `label` its name; and the photo signature agrees with
`serving_examples`, the signature the Evaluator scored, on the same photos within `tolerance`. The reason of
the first failure is returned as a sentence; the Pusher then does not push and records it.

TFX's InfraValidator does this with TF Serving in Docker, which not every machine (nor Vertex) has.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile

import tensorflow as tf

from components.artifacts import (CLASS_ID_OUTPUT, CLASS_NAMES_OUTPUT, CLASS_NAMES_SIGNATURE, EXAMPLES_SIGNATURE,
                                  LABEL_OUTPUT, OUTPUTS, PHOTO_SIGNATURE, PROBABILITIES_OUTPUT)
from components.training.export import read_warmup_photos
from components.training.photo_input import readable_error

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serving_probe.py")
SAMPLE_PHOTOS = 32


@dataclasses.dataclass(frozen=True)
class Limits:
    timeout_s: float = 300.0
    max_rss_mb: float = 4096.0
    tolerance: float = 0.02  # Largest probability difference between the two signatures on one photo.


def check_serving(model_dir: str, limits: Limits = Limits()) -> str:
    """'' if the candidate serves, else why not (one sentence)."""
    photos = read_warmup_photos(model_dir)[:SAMPLE_PHOTOS]
    if not photos:
        return "no warmup photos in assets.extra to check it with (was it exported by this pipeline?)"
    seen = _run_probe(model_dir, photos, limits.timeout_s)
    if isinstance(seen, str):
        return seen
    return _judge(seen, len(photos), limits)


def _run_probe(model_dir: str, photos: list[bytes], timeout_s: float) -> dict | str:
    with tempfile.TemporaryDirectory(prefix="serving-check-") as scratch:
        photos_file = os.path.join(scratch, "photos.tfrecord")
        with tf.io.TFRecordWriter(photos_file) as writer:
            for photo in photos:
                writer.write(photo)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        try:
            # The probe runs in the scratch folder, so a relative local path (a relative pipeline root) is made
            # absolute here.
            where = model_dir if "://" in model_dir else os.path.abspath(model_dir)
            done = subprocess.run([sys.executable, PROBE, where, photos_file], capture_output=True, text=True,
                                  timeout=timeout_s, env=env, cwd=scratch)
        except subprocess.TimeoutExpired:
            return f"a fresh process did not load and answer it within {timeout_s:.0f} s"
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return f"a fresh process could not load it: {lines[-1] if lines else f'exit status {done.returncode}'}"
    return json.loads(done.stdout.splitlines()[-1])


def _judge(seen: dict, count: int, limits: Limits) -> str:
    answers = seen["signatures"]
    for name, answer in answers.items():
        if "error" in answer:
            return f"{name} failed on {count} eval photos: {readable_error(answer['error'])}"
    names = answers[CLASS_NAMES_SIGNATURE].get(CLASS_NAMES_OUTPUT, [])
    for name in (PHOTO_SIGNATURE, EXAMPLES_SIGNATURE):
        problem = _inconsistency(answers[name], names, count)
        if problem:
            return f"{name}: {problem}"
    difference = max(abs(a - b) for photo_row, examples_row in zip(answers[PHOTO_SIGNATURE][PROBABILITIES_OUTPUT],
                                                                   answers[EXAMPLES_SIGNATURE][PROBABILITIES_OUTPUT])
                     for a, b in zip(photo_row, examples_row))
    if difference > limits.tolerance:
        return (f"{PHOTO_SIGNATURE} and {EXAMPLES_SIGNATURE} (what the Evaluator scored) disagree on the same "
                f"photos by up to {difference:.3f} in probability (tolerance {limits.tolerance})")
    peak_mb = seen["maxrss_kb"] / 1024
    if peak_mb > limits.max_rss_mb:
        return f"serving {count} photos took {peak_mb:.0f} MB, over the limit of {limits.max_rss_mb:.0f} MB"
    return ""


def _inconsistency(answer: dict, names: list[str], count: int) -> str:
    """What is wrong with one signature's outputs, or ''."""
    if not set(OUTPUTS) <= set(answer):
        return f"outputs {sorted(answer)}, expected probabilities, class_id and label"
    rows = answer[PROBABILITIES_OUTPUT]
    if len(rows) != count or any(len(row) != len(names) for row in rows):
        return f"{len(rows)} answers for {count} photos, or not one probability per class ({len(names)} classes)"
    if not all(math.isfinite(p) for row in rows for p in row) or any(abs(sum(row) - 1) > 1e-3 for row in rows):
        return "probabilities are not finite or do not sum to one"
    best = [max(range(len(row)), key=row.__getitem__) for row in rows]
    if answer[CLASS_ID_OUTPUT] != best or answer[LABEL_OUTPUT] != [names[i] for i in best]:
        return "class_id is not the most probable class, or label is not its class name"
    return ""
