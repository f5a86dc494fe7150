"""`flowers-pipeline predict --output-dir`: a Beam job over photos, folders and globs, whose answers are the
per-file predict's, with every file in predictions or errors and seen = predicted + errors."""

from __future__ import annotations

import os
import shutil

import pytest

from components.training.batch_predict import ERRORS, PREDICTIONS, expand, read_rows, read_summary
from components.training.predict import Predictor
from pipeline.cli import main


@pytest.fixture(scope="module")
def inputs(dataset, tmp_path_factory):
    """A nested folder of eval photos (plus a note to skip), a glob, one photo, a broken one and a missing one."""
    root = tmp_path_factory.mktemp("batch_inputs")
    eval_photos = sorted(p for p in dataset["photos"] if "/eval/" in p)
    nested = root / "folder" / "deeper"
    nested.mkdir(parents=True)
    for photo in eval_photos[:6]:
        shutil.copy(photo, nested)
    (root / "folder" / "notes.txt").write_text("not a photo, not a photo extension: skipped in a folder")
    broken = root / "broken.jpg"
    broken.write_bytes(open(eval_photos[0], "rb").read()[:200])
    glob = os.path.join(os.path.dirname(eval_photos[0]), "green_*")
    return {"paths": [str(root / "folder"), glob, eval_photos[-1], str(broken), str(root / "missing.jpg")],
            "broken": str(broken), "missing": str(root / "missing.jpg")}


def _per_file(model_dir: str, paths: list[str]) -> dict:
    files = [f for path in paths for f in expand(path)]
    return {p.path: p.as_dict() for p in Predictor(model_dir).predict(files)}


def test_expand_searches_folders_recursively_for_photos_and_keeps_what_matches_nothing(inputs):
    folder = expand(inputs["paths"][0])
    assert len(folder) == 6 and all(path.endswith((".jpg", ".png")) for path in folder)
    assert expand(inputs["missing"]) == [inputs["missing"]]
    assert expand("/no/such/*.jpg") == ["/no/such/*.jpg"]


def test_batch_job_answers_like_per_file_predict_and_accounts_for_every_file(trained, inputs, tmp_path, capsys):
    model_dir = trained["fn_args"].serving_model_dir
    out = str(tmp_path / "out")
    status = main(["predict", "--model-dir", model_dir, "--output-dir", out, "--batch-size", "4", *inputs["paths"]])
    assert status == 1  # the broken and the missing file
    assert "errors" in capsys.readouterr().out
    expected = _per_file(model_dir, inputs["paths"])
    predictions, errors = read_rows(out, PREDICTIONS), read_rows(out, ERRORS)
    summary = read_summary(out)
    assert summary["seen"] == summary["predicted"] + summary["errors"] == len(expected) == 6 + 6 + 1 + 2
    assert (summary["predicted"], summary["errors"]) == (len(predictions), len(errors)) == (13, 2)
    assert {row["path"] for row in errors} == {inputs["broken"], inputs["missing"]}
    assert all(row["error"] for row in errors)
    for row in predictions:
        assert set(row) == {"path", "label", "probability", "probabilities"}
        assert row["label"] == expected[row["path"]]["label"]
        for name, probability in row["probabilities"].items():
            assert probability == pytest.approx(expected[row["path"]]["probabilities"][name], abs=1e-5)


def test_multi_processing_gives_the_same_answers(trained, inputs, tmp_path):
    model_dir = trained["fn_args"].serving_model_dir
    paths = inputs["paths"][:1] + [inputs["broken"]]
    answers = {}
    for mode, extra in (("in_memory", []), ("multi_processing", ["--direct_num_workers=2"])):
        out = str(tmp_path / mode)
        main(["predict", "--model-dir", model_dir, "--output-dir", out, "--batch-size", "2",
              f"--beam-arg=--direct_running_mode={mode}", *[f"--beam-arg={a}" for a in extra], *paths])
        answers[mode] = {row["path"]: row for name in (PREDICTIONS, ERRORS) for row in read_rows(out, name)}
    assert len(answers["in_memory"]) == 7
    assert answers["multi_processing"].keys() == answers["in_memory"].keys()
    for path, row in answers["in_memory"].items():
        other = answers["multi_processing"][path]
        assert other.get("label") == row.get("label") and ("error" in other) == ("error" in row)
        # The same model and photos; only the batch a photo shares differs, which moves float sums by ~1e-8.
        probabilities = row.get("probabilities")
        assert other.get("probabilities") == (None if probabilities is None else pytest.approx(probabilities, abs=1e-6))


def test_batch_size_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--model-dir", "m", "--batch-size", "0", "x.jpg"])
    assert "at least 1" in capsys.readouterr().err
