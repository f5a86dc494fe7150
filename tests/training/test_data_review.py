"""run_fn's data review: the ModelRun files in the contract's shapes, a temperature that every export serves, and
the confidence record inside the SavedModel; a model without parts records why it has no review."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from components import artifacts
from components.training import calibration, data, data_issues
from components.training.models import parts
from tests.training.training_fixtures import CLASSES, fn_args, training_settings


@pytest.fixture(scope="module")
def reviewed(dataset, tmp_path_factory):
    """run_fn with a model in parts (so pooled features exist) on the fixture."""
    from components.training.trainer import run_fn

    settings = training_settings(model="mobilenet_v2", epochs=3, learning_rate=2e-2, fine_tune_layers=0,
                                 data_review_folds=3)
    args = fn_args(dataset["examples"], str(tmp_path_factory.mktemp("reviewed")), settings)
    run_fn(args)
    run_dir = args.model_run_dir
    read_rows = lambda name: [json.loads(line) for line in open(os.path.join(run_dir, name))]  # noqa: E731
    return {"args": args, "issues": read_rows(artifacts.LABEL_ISSUES_FILE),
            "pairs": read_rows(artifacts.NEAR_DUPLICATES_FILE),
            "calibration": json.load(open(os.path.join(run_dir, artifacts.CALIBRATION_FILE))),
            "confidence": json.load(open(os.path.join(args.serving_model_dir, artifacts.CONFIDENCE_FILE))),
            "history": json.load(open(os.path.join(run_dir, artifacts.HISTORY_FILE)))}


@pytest.mark.e2e  # run_fn on a backbone in parts, and its export.
def test_the_review_files_hold_the_contracts_shapes(reviewed, dataset):
    sources = set(dataset["photos"])
    assert reviewed["history"]["data_review"] == "done" and reviewed["history"]["data_review_seconds"] > 0
    for issue in reviewed["issues"]:
        assert set(issue) == {"path", "split", "given", "suggested", "probabilities", "score"}
        assert issue["path"] in sources and issue["split"] in artifacts.SPLITS
        assert issue["given"] != issue["suggested"] and {issue["given"], issue["suggested"]} <= set(CLASSES)
        assert len(issue["probabilities"]) == len(CLASSES) and np.isclose(sum(issue["probabilities"]), 1, atol=1e-5)
        assert issue["score"] == issue["probabilities"][CLASSES.index(issue["given"])]
    assert [i["score"] for i in reviewed["issues"]] == sorted(i["score"] for i in reviewed["issues"])
    for pair in reviewed["pairs"]:
        assert set(pair) == {"paths", "splits", "labels", "similarity"} and set(pair["paths"]) <= sources
        assert pair["similarity"] >= data_issues.NEAR_DUPLICATE_COSINE
    record = reviewed["calibration"]
    assert record["label_issues"] == len(reviewed["issues"]) and record["bins"] == calibration.BINS
    assert sum(record["near_duplicates"].values()) == len(reviewed["pairs"])
    assert record["threshold"] == {"cosine": data_issues.NEAR_DUPLICATE_COSINE} and record["temperature"] > 0
    assert sum(count for *_, count in record["reliability_after"]) == 18
    assert record["accuracy_after"] == record["accuracy_before"]


@pytest.mark.e2e
def test_every_export_serves_the_calibrated_probabilities_with_the_same_top_class(reviewed, dataset):
    args, record = reviewed["args"], reviewed["calibration"]
    served = tf.saved_model.load(args.serving_model_dir).signatures[artifacts.EXAMPLES_SIGNATURE]
    probabilities = served(**{artifacts.EXAMPLES_INPUT: tf.constant(dataset["records"]["eval"])})[
        artifacts.PROBABILITIES_OUTPUT].numpy()
    labels = np.array([CLASSES.index(os.path.basename(s).split("_")[0]) for s in _sources(dataset)])
    rows = calibration.reliability(probabilities, labels)
    assert calibration.expected_calibration_error(rows) == pytest.approx(record["ece_after"], abs=1e-4)
    assert calibration.accuracy(probabilities, labels) == pytest.approx(record["accuracy_before"])
    keras_model = tf.keras.models.load_model(args.serving_model_dir, compile=False)  # As EdgeExport loads it.
    assert keras_model.get_layer(parts.HEAD).get_layer(parts.TEMPERATURE).scale == pytest.approx(
        1 / record["temperature"])
    pixels = np.stack([data.decode_record_image(tf.constant(_image(record)), 32).numpy()
                       for record in dataset["records"]["eval"]])
    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    runner = interpreter.get_signature_runner()
    tflite = np.concatenate([next(iter(runner(image=pixel[None]).values())) for pixel in pixels])
    np.testing.assert_allclose(tflite, probabilities, atol=1e-4)


@pytest.mark.e2e
def test_the_confidence_record_travels_inside_the_saved_model(reviewed):
    confidence = reviewed["confidence"]
    assert confidence["target_accuracy"] == 0.95 and len(confidence["curve"]) == 101
    assert set(confidence["per_class"]) == set(CLASSES)
    coverages = [coverage for _, coverage, _ in confidence["curve"]]
    assert coverages[0] == 1.0 and coverages == sorted(coverages, reverse=True)
    if confidence["threshold"] is not None:
        reached = dict((t, a) for t, _, a in confidence["curve"])[confidence["threshold"]]
        assert reached >= confidence["target_accuracy"]


def test_a_model_without_parts_records_why_it_was_not_reviewed(trained):
    args, history = trained["fn_args"], trained["history"]
    assert history["data_review"].startswith("skipped: ") and history["data_review_seconds"] == 0
    assert not os.path.exists(os.path.join(args.model_run_dir, artifacts.LABEL_ISSUES_FILE))
    assert os.path.exists(os.path.join(args.serving_model_dir, artifacts.CONFIDENCE_FILE))


def _sources(dataset) -> list[str]:
    return [tf.train.Example.FromString(r).features.feature[artifacts.SOURCE_FEATURE].bytes_list.value[0].decode()
            for r in dataset["records"]["eval"]]


def _image(record: bytes) -> bytes:
    return tf.train.Example.FromString(record).features.feature[artifacts.IMAGE_FEATURE].bytes_list.value[0]
