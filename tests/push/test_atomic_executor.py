"""AtomicExecutor.Do on real artifacts: only blessed models are pushed, recorded like the stock Pusher."""

import os

from tfx import v1 as tfx
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.edge import EdgeModel
from components.push.component import AtomicExecutor


def _model(tmp_path, name: str, weights: bytes):
    serving = tmp_path / name / "Format-Serving"  # Where the Trainer exports.
    (serving / "variables").mkdir(parents=True)
    (serving / "saved_model.pb").write_bytes(b"graph")
    (serving / "variables" / "variables.index").write_bytes(weights)
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


def test_unblessed_model_is_recorded_as_not_pushed_and_serving_stays_empty(tmp_path):
    pushed = _push(tmp_path, _model(tmp_path, "m", b"w"), blessed=0, run="1")
    assert pushed.get_int_custom_property("pushed") == 0
    assert not (tmp_path / "serving").exists()


def test_blessed_model_is_pushed_and_recorded_with_destination_and_version(tmp_path):
    pushed = _push(tmp_path, _model(tmp_path, "m", b"w"), blessed=1, run="1")
    assert _recorded(pushed) == (1, str(tmp_path / "serving" / "1"), "1")
    assert (tmp_path / "serving" / "1" / "saved_model.pb").exists()
    assert os.path.exists(os.path.join(pushed.uri, "saved_model.pb"))  # The archived copy, as the stock Pusher.


def test_the_same_model_blessed_again_is_not_pushed_as_a_new_version(tmp_path):
    """What a Vertex run with the stock resolver would otherwise do on an identical rerun."""
    model = _model(tmp_path, "m", b"w")
    first = _push(tmp_path, model, blessed=1, run="1")
    again = _push(tmp_path, model, blessed=1, run="2")
    assert _recorded(again) == _recorded(first)
    assert (first.get_int_custom_property("already_served"), again.get_int_custom_property("already_served")) == (0, 1)
    assert sorted(os.listdir(tmp_path / "serving")) == ["1"]
    other = _push(tmp_path, _model(tmp_path, "m2", b"w2"), blessed=1, run="3")
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


def test_accepted_edge_files_are_pushed_into_the_version_and_rejected_ones_are_not(tmp_path):
    edge = _edge_model(tmp_path, {"model_float16.tflite": b"float", "labels.txt": b"daisy\nroses\n"})
    _push(tmp_path, _model(tmp_path, "m", b"w"), blessed=1, run="1", edge_model=edge)
    version = tmp_path / "serving" / "1"
    assert sorted(os.listdir(version / "tflite")) == ["labels.txt", "model_float16.tflite"]
    assert (version / "tflite" / "labels.txt").read_text() == "daisy\nroses\n"
    assert (version / "saved_model.pb").exists()


def test_an_edge_export_with_nothing_accepted_adds_no_folder_and_blocks_nothing(tmp_path):
    pushed = _push(tmp_path, _model(tmp_path, "m", b"w"), blessed=1, run="1", edge_model=_edge_model(tmp_path, {}))
    assert pushed.get_int_custom_property("pushed") == 1
    assert sorted(os.listdir(tmp_path / "serving" / "1")) == ["saved_model.pb", "variables"]
