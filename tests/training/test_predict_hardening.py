"""Issue 20, rows 2 to 7 and 13: `predict` never mixes runs, never lies in its summary, never blocks or reads
without bound, and says in one line what the user got wrong."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from components.training.batch_output import STAGING_PREFIX
from components.training.batch_predict import ERRORS, PREDICTIONS, expand, read_rows, read_summary
from components.training.predict import Predictor
from pipeline.cli import main


@pytest.fixture(scope="module")
def photos(dataset):
    return sorted(p for p in dataset["photos"] if "/eval/" in p)


def _predict(model: str, out: str, *paths: str, extra: tuple[str, ...] = ()) -> int:
    return main(["predict", "--model-dir", model, "--output-dir", out, *extra, *paths])


def _err_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _staging_left(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(STAGING_PREFIX) or name.startswith("beam-temp")]


def test_a_second_run_into_one_output_dir_is_refused_and_overwrite_replaces_it_whole(trained, photos, tmp_path,
                                                                                     capsys):
    """Row 2: old shards never stay beside new ones; the summary counts what its own glob matches."""
    model, out = trained["fn_args"].serving_model_dir, str(tmp_path / "out")
    assert _predict(model, out, *photos[:3], extra=("--beam-arg=--direct_running_mode=multi_threading",
                                                    "--beam-arg=--direct_num_workers=2")) == 0
    first = sorted(os.listdir(out))
    capsys.readouterr()
    assert _predict(model, out, photos[3]) == 1
    assert _err_lines(capsys) == [f"flowers-pipeline predict: --output-dir {out} already holds {len(first)} file(s); "
                                  "pass --overwrite to replace its results, or choose another --output-dir"]
    assert sorted(os.listdir(out)) == first
    assert _predict(model, out, *photos[3:5], extra=("--overwrite",)) == 0
    summary = read_summary(out)
    assert summary["predicted"] == len(read_rows(out, PREDICTIONS)) == 2 and read_rows(out, ERRORS) == []
    assert [row["path"] for row in read_rows(out, PREDICTIONS)] == photos[3:5]
    assert _staging_left(tmp_path) == []


def test_overwrite_replaces_results_only(trained, photos, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _predict(trained["fn_args"].serving_model_dir, str(out), photos[0], extra=("--overwrite",)) == 1
    assert _err_lines(capsys) == [f"flowers-pipeline predict: --output-dir {out} holds files that are not "
                                  "prediction results (notes.txt); --overwrite replaces results only"]


def test_glob_characters_in_the_output_dir_are_names(trained, photos, tmp_path, capsys):
    """Row 3: `out[1]` is a folder named so, not a pattern that matches nothing."""
    out = str(tmp_path / "out[1]?*")
    assert _predict(trained["fn_args"].serving_model_dir, out, *photos[:2]) == 0
    assert (read_summary(out)["predicted"], len(read_rows(out, PREDICTIONS))) == (2, 2)
    assert "summary.json" in os.listdir(out)
    assert all(name.startswith((PREDICTIONS, ERRORS, "summary.json")) for name in os.listdir(out))
    assert _staging_left(tmp_path) == []


def test_a_glob_that_matches_folders_searches_them(photos):
    """Row 13: a glob matching only folders is those folders, searched like a folder given by name."""
    folder = os.path.dirname(photos[0])
    assert expand(os.path.join(os.path.dirname(folder), "ev*")) == expand(folder) and len(expand(folder)) > 2


@pytest.fixture(scope="module")
def broken_models(trained, tmp_path_factory):
    """Row 6: a SavedModel with a corrupt saved_model.pb, and a serving dir whose newest version has no variables/."""
    root = tmp_path_factory.mktemp("broken_models")
    corrupt = root / "corrupt"
    shutil.copytree(trained["fn_args"].serving_model_dir, corrupt)
    (corrupt / "saved_model.pb").write_bytes(b"\x08\x01garbage" * 10)
    serving = root / "serving"
    shutil.copytree(trained["fn_args"].serving_model_dir, serving / "1")
    shutil.copytree(trained["fn_args"].serving_model_dir, serving / "2")
    shutil.rmtree(serving / "2" / "variables")
    return {"corrupt": str(corrupt), "no_variables": str(serving)}


@pytest.mark.parametrize("which", ["corrupt", "no_variables"])
@pytest.mark.parametrize("batch", [False, True])
def test_a_broken_model_is_one_line(broken_models, photos, tmp_path, capsys, which, batch):
    out = tmp_path / "out"
    flags = ["--output-dir", str(out)] if batch else []
    status = main(["predict", "--model-dir", broken_models[which], *flags, photos[0]])
    err = _err_lines(capsys)
    assert status == 1 and len(err) == 1, err
    assert err[0].startswith(f"flowers-pipeline predict: --model-dir {broken_models[which]}")
    assert "cannot load this SavedModel (" in err[0]
    assert not out.exists() and _staging_left(tmp_path) == []


@pytest.mark.parametrize("name, where", [("a file", "file"), ("unwritable", "/proc/i20-predict-out")])
def test_an_output_dir_that_cannot_be_written_is_one_line(trained, photos, tmp_path, capsys, name, where):
    """Row 6: a file in the way, a folder nobody (not even root) can create in."""
    if where == "file":
        where = str(tmp_path / "file")
        open(where, "w").close()
    status = _predict(trained["fn_args"].serving_model_dir, where, photos[0])
    err = _err_lines(capsys)
    assert status == 1 and len(err) == 1 and err[0].startswith("flowers-pipeline predict: "), err
    assert ("is a file, not a folder" if name == "a file" else "cannot create a staging folder in /proc") in err[0]
    assert _staging_left(tmp_path) == []


def test_a_staging_folder_left_by_a_killed_run_is_removed_by_the_next(trained, photos, tmp_path, capsys):
    """Row 7: a run killed with -9 cannot clean up; the next one beside it does (only for processes gone)."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = __import__("socket").gethostname()
    left = tmp_path / f"{STAGING_PREFIX}{host}-{dead.stdout.strip()}-0badf00d"
    live = tmp_path / f"{STAGING_PREFIX}{host}-{os.getpid()}-0000cafe"
    for folder in (left, live):
        (folder / "beam-temp-x").mkdir(parents=True)
    assert _predict(trained["fn_args"].serving_model_dir, str(tmp_path / "out"), photos[0]) == 0
    assert _staging_left(tmp_path) == [live.name]


@pytest.mark.parametrize("flag, message", [
    ("--beam-arg=--runner=NoSuchRunner", "--beam-arg --runner=NoSuchRunner: Unexpected pipeline runner: NoSuchRunner."),
    ("--beam-arg=--direct_num_workers=abc", "--beam-arg: argument --direct_num_workers: invalid int value: 'abc'"),
    ("--beam-arg=garbage", "--beam-arg garbage: not a Beam pipeline option"),
])
def test_beam_arguments_are_parsed_up_front(tmp_path, capsys, flag, message):
    """Row 13: one line and status 2, before a model is loaded or a folder made."""
    status = main(["predict", "--model-dir", str(tmp_path / "no-model"), "--output-dir", str(tmp_path / "out"),
                   flag, "x.jpg"])
    err = _err_lines(capsys)
    assert status == 2 and len(err) == 1 and err[0].startswith(f"flowers-pipeline predict: invalid setting: {message}")
    assert os.listdir(tmp_path) == []


def test_an_empty_output_dir_is_refused(tmp_path, capsys):
    assert main(["predict", "--model-dir", str(tmp_path), "--output-dir", "", "x.jpg"]) == 2
    assert _err_lines(capsys) == ["flowers-pipeline predict: invalid setting: --output-dir: must not be empty "
                                  "(leave it out to predict file by file)"]


@pytest.fixture
def special_files(tmp_path, photos):
    """Row 4 and 5: a FIFO named like a photo, a 1 GiB sparse 'photo' and a good photo, in one folder."""
    folder = tmp_path / "specials"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")
    with open(folder / "video.jpg", "wb") as sparse:
        sparse.truncate(2**30)
    shutil.copy(photos[0], folder / "good.jpg")
    return folder


def test_fifos_and_oversized_files_are_error_rows_in_both_modes(trained, special_files, tmp_path):
    model = trained["fn_args"].serving_model_dir
    answers = {os.path.basename(p.path): p for p in Predictor(model).predict(sorted(map(str, special_files.iterdir())))}
    assert answers["pipe.jpg"].error == ("unreadable file: OSError: not a regular file (reading a FIFO or device "
                                         "could block forever)")
    assert answers["video.jpg"].error == f"file too large: more than max_file_bytes={256 * 2**20} bytes"
    assert answers["good.jpg"].label
    assert _predict(model, str(tmp_path / "out"), str(special_files)) == 1
    rows = {os.path.basename(row["path"]): row for row in read_rows(str(tmp_path / "out"), ERRORS)}
    assert set(rows) == {"pipe.jpg", "video.jpg"} and rows["pipe.jpg"]["error"] == answers["pipe.jpg"].error
    assert len(read_rows(str(tmp_path / "out"), PREDICTIONS)) == 1


def test_ctrl_c_during_a_batch_job_exits_130_in_one_line_and_leaves_nothing(trained, photos, tmp_path):
    """Row 7: SIGINT while the job runs: status 130, one line, no staging folder or beam-temp left, no OUT."""
    many = tmp_path / "many"
    many.mkdir()
    for i in range(400):
        os.symlink(photos[i % len(photos)], many / f"photo_{i}.jpg")
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "predict", "--model-dir",
                                trained["fn_args"].serving_model_dir, "--output-dir", str(tmp_path / "out"),
                                "--batch-size", "1", str(many)], env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not _staging_left(tmp_path) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(3)  # Into the job.
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    ours = [line for line in err.splitlines() if line.startswith(("flowers-pipeline", "Traceback"))]
    assert process.returncode == 130 and ours == ["flowers-pipeline predict: interrupted"], err[-3000:]
    assert _staging_left(tmp_path) == [] and not (tmp_path / "out").exists()
