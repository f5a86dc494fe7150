"""`predict --min-confidence P|auto` on the gate scenario's pushed versions: below P the answer is `unsure`, in the
printed lines and in the batch job's rows; `auto` reads the threshold the pushed version carries."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from components.training.batch_predict import PREDICTIONS, read_rows
from pipeline.cli import main
from tests.evaluation import gate_scenario
from tests.report import trainer_records


@pytest.fixture(scope="module")
def rose(tmp_path_factory) -> str:
    """A PNG the scenario's models read as roses (the class is written into the bottom row, see make_example)."""
    pixels = np.zeros((gate_scenario.PHOTO_SIZE, gate_scenario.PHOTO_SIZE, 3), np.uint8)
    roses = gate_scenario.CLASSES.index("roses")
    pixels[..., roses % 3] = 60 + 40 * roses
    path = str(tmp_path_factory.mktemp("photos") / "rose.png")
    Image.fromarray(pixels).save(path)
    return path


def test_below_the_threshold_the_answer_is_unsure_and_above_it_the_label(scenario, rose, capsys):
    serving = scenario["serving_dir"]  # Its newest version, model d, is sure of roses at p = 0.9987.
    assert main(["predict", "--model-dir", serving, "--min-confidence", "0.5", rose]) == 0
    assert capsys.readouterr().out == f"{rose}: roses 0.999\n"
    assert main(["predict", "--model-dir", serving, "--min-confidence", "auto", rose]) == 0
    threshold = trainer_records.CONFIDENCE["threshold"]
    assert capsys.readouterr().out == f"{rose}: unsure (best guess roses 0.999, below {threshold})\n"  # 0.9995
    assert main(["predict", "--model-dir", serving, "--min-confidence", "auto", "--format", "json", rose]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["label"], row["unsure"]) == ("roses", True) and row["probability"] < threshold


def test_without_the_flag_nothing_changes(scenario, rose, capsys):
    assert main(["predict", "--model-dir", scenario["serving_dir"], "--format", "json", rose]) == 0
    assert "unsure" not in json.loads(capsys.readouterr().out)


def test_the_batch_job_writes_unsure_in_every_prediction(scenario, rose, tmp_path):
    out = str(tmp_path / "out")
    assert main(["predict", "--model-dir", scenario["serving_dir"], "--min-confidence", "auto", "--output-dir", out,
                 rose]) == 0
    [row] = read_rows(out, PREDICTIONS)
    assert (row["path"], row["label"], row["unsure"]) == (rose, "roses", True)


def test_auto_on_a_version_without_a_threshold_is_a_one_line_error(scenario, rose, capsys):
    version_1 = os.path.join(scenario["serving_dir"], "1")  # Model a: from before thresholds were chosen.
    assert main(["predict", "--model-dir", version_1, "--min-confidence", "auto", rose]) == 1
    error = capsys.readouterr().err.strip()
    assert "--min-confidence auto:" in error and "holds no assets.extra/confidence.json" in error
    assert "\n" not in error


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "sure"])
def test_a_threshold_that_is_not_a_probability_is_refused_before_loading(value, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["predict", "--model-dir", "/no/such/model", "--min-confidence", value, "x.jpg"])
    assert exit_status.value.code == 2
    assert "neither a probability from 0 to 1 nor 'auto'" in capsys.readouterr().err
