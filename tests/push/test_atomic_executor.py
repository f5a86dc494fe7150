"""AtomicExecutor.Do on real artifacts: only blessed models that a fresh process can serve are pushed, recorded
like the stock Pusher; a refused one is recorded with the reason, which the run summary shows."""

import os
import shutil

import pytest
import tensorflow as tf
from tfx import v1 as tfx
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.artifacts import MODEL_CARD_FILE, NOT_PUSHED_REASON_PROPERTY
from components.edge import EdgeModel
from components.push.component import AtomicExecutor
from components.report.collect import push_result
from components.report.record import PushResult, RunRecord
from components.report.summary import _push as summary_push_line
from tests.push.push_fixtures import CLASSES, export_tiny

pytestmark = pytest.mark.e2e  # Every push runs the pre-push serving check in a fresh process (5-17 s a test).


def _model(tmp_path, name: str, exported: str):
    serving = tmp_path / name / "Format-Serving"  # Where the Trainer exports.
    if not serving.exists():
        shutil.copytree(exported, serving)
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / name)
    return model


def _push(tmp_path, model, blessed: int, run: str, edge_model=None):
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / f"blessing-{run}")
    blessing.set_int_custom_property("blessed", blessed)
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / f"pushed-{run}")
    destination = tfx.proto.PushDestination(
        filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(tmp_path / "serving")))
    inputs = {"model": [model], "model_blessing": [blessing], **({"edge_model": [edge_model]} if edge_model else {})}
    AtomicExecutor().Do(inputs, {"pushed_model": [pushed]},
                        {"push_destination": proto_utils.proto_to_json(destination)})
    return pushed


def _recorded(pushed) -> tuple:
    return (pushed.get_int_custom_property("pushed"), pushed.get_string_custom_property("pushed_destination"),
            pushed.get_string_custom_property("pushed_version"))


def test_unblessed_model_is_recorded_as_not_pushed_and_serving_stays_empty(tmp_path, tiny_models):
    pushed = _push(tmp_path, _model(tmp_path, "m", tiny_models["m"]), blessed=0, run="1")
    assert pushed.get_int_custom_property("pushed") == 0
    assert not (tmp_path / "serving").exists()


def test_blessed_model_is_pushed_and_recorded_with_destination_and_version(tmp_path, tiny_models):
    pushed = _push(tmp_path, _model(tmp_path, "m", tiny_models["m"]), blessed=1, run="1")
    assert _recorded(pushed) == (1, str(tmp_path / "serving" / "1"), "1")
    assert (tmp_path / "serving" / "1" / "saved_model.pb").exists()
    assert os.path.exists(os.path.join(pushed.uri, "saved_model.pb"))  # The archived copy, as the stock Pusher.
    card = (tmp_path / "serving" / "1" / MODEL_CARD_FILE).read_text()  # Even with none of the card's inputs:
    assert "Not recorded: the Pusher received no Examples artifact." in card
    assert "Not recorded: the Pusher received no ModelEvaluation." in card


def test_a_model_under_a_relative_pipeline_root_is_pushed(tmp_path, tiny_models, monkeypatch):
    """`make run`'s root is runs/pipeline: the serving check's fresh process runs elsewhere and needs its path."""
    exported = _model(tmp_path, "m", tiny_models["m"])
    monkeypatch.chdir(tmp_path)
    relative = standard_artifacts.Model()
    relative.uri = os.path.relpath(exported.uri, tmp_path)
    pushed = _push(tmp_path, relative, blessed=1, run="1")
    assert _recorded(pushed) == (1, str(tmp_path / "serving" / "1"), "1")


def test_the_same_model_blessed_again_is_not_pushed_as_a_new_version(tmp_path, tiny_models):
    """What a Vertex run with the stock resolver would otherwise do on an identical rerun."""
    model = _model(tmp_path, "m", tiny_models["m"])
    first = _push(tmp_path, model, blessed=1, run="1")
    again = _push(tmp_path, model, blessed=1, run="2")
    assert _recorded(again) == _recorded(first)
    assert (first.get_int_custom_property("already_served"), again.get_int_custom_property("already_served")) == (0, 1)
    assert sorted(os.listdir(tmp_path / "serving")) == ["1"]
    other = _push(tmp_path, _model(tmp_path, "m2", tiny_models["m2"]), blessed=1, run="3")
    assert _recorded(other)[2] == "2"


def _edge_model(tmp_path, accepted: dict[str, bytes]):
    """An EdgeExport artifact as the pusher sees it: the accepted files under push/, a rejected one aside."""
    (tmp_path / "edge" / "push").mkdir(parents=True)
    (tmp_path / "edge" / "rejected").mkdir()
    for name, content in accepted.items():
        (tmp_path / "edge" / "push" / name).write_bytes(content)
    (tmp_path / "edge" / "rejected" / "model_int8.tflite").write_bytes(b"too inaccurate")
    artifact = EdgeModel()
    artifact.uri = str(tmp_path / "edge")
    return artifact


def test_accepted_edge_files_are_pushed_into_the_version_and_rejected_ones_are_not(tmp_path, tiny_models):
    edge = _edge_model(tmp_path, {"model_float16.tflite": b"float", "labels.txt": b"daisy\nroses\n"})
    _push(tmp_path, _model(tmp_path, "m", tiny_models["m"]), blessed=1, run="1", edge_model=edge)
    version = tmp_path / "serving" / "1"
    assert sorted(os.listdir(version / "tflite")) == ["labels.txt", "model_float16.tflite"]
    assert (version / "tflite" / "labels.txt").read_text() == "daisy\nroses\n"
    assert (version / "saved_model.pb").exists()


def test_an_edge_export_with_nothing_accepted_adds_no_folder_and_blocks_nothing(tmp_path, tiny_models):
    pushed = _push(tmp_path, _model(tmp_path, "m", tiny_models["m"]), blessed=1, run="1",
                   edge_model=_edge_model(tmp_path, {}))
    assert pushed.get_int_custom_property("pushed") == 1
    listing = os.listdir(tmp_path / "serving" / "1")
    assert "saved_model.pb" in listing and "tflite" not in listing


def _refused(tmp_path, warmup_photos, broken) -> str:
    exported = export_tiny(str(tmp_path / "exported"), 3, warmup_photos, broken_photo_signature=broken)
    pushed = _push(tmp_path, _model(tmp_path, "broken", exported), blessed=1, run="1")
    assert pushed.get_int_custom_property("pushed") == 0
    assert not (tmp_path / "serving").exists() or os.listdir(tmp_path / "serving") == []
    reason = pushed.get_string_custom_property(NOT_PUSHED_REASON_PROPERTY)
    assert push_result(pushed.mlmd_artifact) == PushResult(not_pushed_reason=reason)
    record = RunRecord(pipeline_name="p", pipeline_root="r", push=push_result(pushed.mlmd_artifact))
    assert summary_push_line(record) == [f"  pushed:     not pushed: {reason}"]
    return reason


def test_a_candidate_whose_photo_signature_takes_raw_pixels_is_never_pushed(tmp_path, warmup_photos):
    def raw_pixels(model):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def serve(image_bytes):  # Expects pixels, not encoded photos: the eval photos do not fit.
            pixels = tf.reshape(tf.io.decode_raw(image_bytes, tf.uint8), [-1, 8, 8, 3])
            probabilities = model(tf.cast(pixels, tf.float32) / 255)
            class_id = tf.argmax(probabilities, -1)
            return {"probabilities": probabilities, "class_id": class_id, "label": tf.gather(CLASSES, class_id)}
        return serve

    reason = _refused(tmp_path, warmup_photos, raw_pixels)
    assert reason.startswith("serving check failed: serving_default failed on 6 eval photos: ")
    assert "\n" not in reason


def test_a_candidate_whose_signatures_disagree_is_never_pushed(tmp_path, warmup_photos):
    from components.training.photo_input import photo_to_input

    def inverted(model):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def serve(image_bytes):  # A wrong transform: what the Evaluator scored is not what clients get.
            images = tf.map_fn(lambda b: 1.0 - photo_to_input(b, 8), image_bytes,
                               fn_output_signature=tf.TensorSpec([8, 8, 3], tf.float32))
            probabilities = model(images)
            class_id = tf.argmax(probabilities, -1)
            return {"probabilities": probabilities, "class_id": class_id, "label": tf.gather(CLASSES, class_id)}
        return serve

    reason = _refused(tmp_path, warmup_photos, inverted)
    assert "serving_default and serving_examples (what the Evaluator scored) disagree" in reason
