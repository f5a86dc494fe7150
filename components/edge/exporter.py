"""export_edge_models: convert a blessed SavedModel's Keras model to TFLite, measure both models, decide the push.

The integer model is accepted only when its eval accuracy is at most `max_int8_drop` below the SavedModel's on the
same photos. The SavedModel's is the Evaluator's (TFMA ran that very model over the eval split) when its example
count is the split's; otherwise it is measured here (re-scoring it cost about 5 s of the real job's EdgeExport).
The float model (float16 weights, computed in float32) is accepted as is: its accuracy is reported beside the
others. A model that fails to convert is recorded, with the reason, and not pushed; the SavedModel's push never
depends on any of this.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from components import artifacts
from components.edge import convert, layout
from components.edge.evaluate import (THREADS, Scores, TfliteModel, calibration_photos, directory_bytes,
                                      evaluate)
from components.errors import UserError
from components.evaluation.results import ModelMetrics
from components.training import data

log = logging.getLogger(__name__)
CALIBRATION_PHOTOS = 200  # Train photos the integer model is calibrated on (TFLite suggests 100-500).


def export_edge_models(model_dir: str, examples_uri: str, out_uri: str, classes: list[str], max_int8_drop: float,
                       calibration_count: int = CALIBRATION_PHOTOS,
                       evaluated: ModelMetrics | None = None) -> dict[str, Any]:
    """Write the artifact's files (see `layout`) and return the metrics written to its metrics file. `evaluated`:
    the Evaluator's figures for this model, if any."""
    model = load_keras_model(model_dir)
    image_size = int(model.input_shape[1])
    calibration = calibration_photos(artifacts.split_files(examples_uri, artifacts.TRAIN_SPLIT), image_size,
                                     calibration_count)
    pixel_model = convert.PixelModel(model, image_size)
    converters: dict[str, Callable[[], bytes]] = {
        "float16": lambda: convert.to_float16(pixel_model),
        "int8": lambda: convert.to_int8(pixel_model, calibration),
    }
    flatbuffers, failures = {}, {}
    for name, make in converters.items():
        try:
            flatbuffers[name] = make()
        except Exception as error:  # A converter error must not stop the SavedModel's push.
            failures[name] = f"conversion failed: {type(error).__name__}: {_first_line(error)}"
            log.warning("TFLite %s conversion of %s failed: %s", name, model_dir, error)
    tflite_models = {name: TfliteModel(content) for name, content in flatbuffers.items()}
    if "int8" in tflite_models:
        tflite_models["int8"].check_integer_input()
    eval_files = artifacts.split_files(examples_uri, artifacts.EVAL_SPLIT)
    evaluator_scores = _evaluator_scores(evaluated, eval_files)
    scores = evaluate(model, tflite_models, eval_files, image_size, evaluator_scores)

    metrics: dict[str, Any] = {
        "status": "exported", "image_size": image_size, "eval_photos": scores["saved_model"].count,
        "calibration_photos": len(calibration), "max_int8_drop": max_int8_drop, "threads": THREADS,
        "saved_model_scored_by": "Evaluator" if evaluator_scores else "EdgeExport",
        "models": {"saved_model": _figures(scores["saved_model"], directory_bytes(model_dir))},
    }
    saved_accuracy = scores["saved_model"].accuracy
    for name in converters:
        if name in failures:
            metrics["models"][name] = {"accepted": False, "reason": failures[name]}
            continue
        reason = _int8_refusal(scores[name].accuracy, saved_accuracy, max_int8_drop) if name == "int8" else ""
        folder = layout.REJECTED_DIR if reason else layout.PUSH_DIR
        layout.write_file(os.path.join(out_uri, folder), layout.MODEL_FILES[name], flatbuffers[name])
        metrics["models"][name] = {**_figures(scores[name], len(flatbuffers[name])), "file": layout.MODEL_FILES[name],
                                   "accepted": not reason, "reason": reason}
    if any(figures.get("accepted") for figures in metrics["models"].values()):
        layout.write_file(os.path.join(out_uri, layout.PUSH_DIR), artifacts.LABELS_FILE,
                          "".join(f"{name}\n" for name in classes))
    layout.write_metrics(out_uri, metrics)
    return metrics


def record_skipped(out_uri: str, reason: str) -> dict[str, Any]:
    metrics = {"status": "skipped", "reason": reason}
    layout.write_metrics(out_uri, metrics)
    return metrics


def _evaluator_scores(evaluated: ModelMetrics | None, eval_files: list[str]) -> Scores | None:
    """The Evaluator's right answers on the eval split, when it saw every eval record (else None: score here)."""
    if evaluated is None or evaluated.accuracy is None or evaluated.example_count is None:
        return None
    count = data.count_records(eval_files)
    if round(evaluated.example_count) != count:
        log.warning("the Evaluator saw %s eval records, the split holds %d: scoring the SavedModel here",
                    evaluated.example_count, count)
        return None
    return Scores(correct=round(evaluated.accuracy * count), count=count)


def load_keras_model(model_dir: str) -> tf.keras.Model:
    try:
        return tf.keras.models.load_model(model_dir, compile=False)
    except (OSError, ValueError, TypeError) as error:
        raise UserError(f"edge export: {model_dir} is not a Keras SavedModel that can be converted to TFLite "
                        f"({type(error).__name__}: {error})") from None


def _int8_refusal(accuracy: float | None, saved_accuracy: float | None, max_drop: float) -> str:
    """Why the integer model is not pushed, or "" when it is accurate enough."""
    if accuracy is None or saved_accuracy is None:
        return "no eval photos to compare it with the SavedModel"
    drop = saved_accuracy - accuracy
    if drop > max_drop + 1e-9:
        return (f"accuracy {accuracy:.3f} is {drop:.3f} below the SavedModel's {saved_accuracy:.3f}, more than "
                f"gate.max_tflite_drop {max_drop:.3f}")
    return ""


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def _figures(scores: Scores, size_bytes: int) -> dict[str, Any]:
    latency = scores.latency_ms
    return {"accuracy": scores.accuracy, "correct": scores.correct, "size_bytes": int(size_bytes),
            "latency_ms": None if latency is None else float(np.round(latency, 3))}
