"""`flowers-pipeline predict` and `flowers-pipeline models`, through the CLI entry point."""

from __future__ import annotations

import json
import os

import pytest

from components.errors import UserError
from components.training.predict import resolve_model_dir
from pipeline.cli import main
from tests.training.training_fixtures import CLASSES


@pytest.fixture(scope="module")
def photos(dataset, tmp_path_factory):
    """Two eval photos (a JPEG and a PNG), a broken JPEG and a text file."""
    paths = sorted(p for p in dataset["photos"] if "/eval/" in p)
    good = [next(p for p in paths if p.endswith(".jpg")), next(p for p in paths if p.endswith(".png"))]
    folder = tmp_path_factory.mktemp("bad_photos")
    broken = folder / "broken.jpg"
    broken.write_bytes(open(good[0], "rb").read()[:200])
    text = folder / "notes.jpg"
    text.write_text("not a photo")
    return {"good": good, "broken": str(broken), "text": str(text)}


def test_predict_text(trained, photos, capsys):
    assert main(["predict", "--model-dir", trained["fn_args"].serving_model_dir, *photos["good"]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, photos["good"]):
        name, label, probability = line.rsplit(" ", 2)
        assert name == f"{path}:" and label in CLASSES and 1 / 3 < float(probability) <= 1


def test_predict_json_answers_good_photos_and_reports_bad_ones(trained, photos, capsys):
    paths = [photos["good"][0], photos["broken"], photos["text"], photos["good"][1], "/no/such.jpg"]
    status = main(["predict", "--model-dir", trained["fn_args"].serving_model_dir, "--format", "json",
                   "--batch-size", "4", *paths])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 1
    assert [row["path"] for row in rows] == paths
    for row in (rows[0], rows[3]):
        assert row["label"] in CLASSES and set(row["probabilities"]) == set(CLASSES)
        assert row["probability"] == max(row["probabilities"].values())
    assert all(set(row) == {"path", "error"} for row in (rows[1], rows[2], rows[4]))
    assert rows[1]["error"].startswith("cannot") and "not an image" in rows[2]["error"]


def test_serving_dir_uses_the_newest_numbered_version(trained, tmp_path):
    for version in ("9", "10"):
        os.symlink(trained["fn_args"].serving_model_dir, tmp_path / version)
    (tmp_path / "11-incomplete").mkdir()
    assert resolve_model_dir(str(tmp_path)) == str(tmp_path / "10")


def test_a_folder_without_models_fails_clearly(tmp_path, capsys):
    assert main(["predict", "--model-dir", str(tmp_path), "x.jpg"]) == 1
    assert "neither a SavedModel nor a serving directory" in capsys.readouterr().err
    with pytest.raises(UserError, match="no such directory"):
        resolve_model_dir(str(tmp_path / "missing"))


def test_models_lists_parameter_counts_at_the_configured_size(capsys):
    assert main(["models", "--set", "training.model_options.mobilenet_v2.weights=none"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "192x192x3, 5 classes" in lines[0]
    squeezenet = next(line for line in lines if line.startswith("squeezenet"))
    assert squeezenet.split()[1] == "120,613"
    assert next(line for line in lines if line.startswith("mobilenet_v2")).split()[1] == "2,264,389"
