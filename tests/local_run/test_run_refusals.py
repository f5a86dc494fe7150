"""Issue 20, rows 9, 11 and 12: what `flowers-pipeline run` says when the user's own setup is in the way. Each
refusal is one line on stderr and the `Result:` line the README promises with its exit status; none a traceback."""

from __future__ import annotations

import os

import pytest

from components.errors import RunStopped
from pipeline.cli import main
from pipeline.commands.run import _print_error
from pipeline.root_lock import LOCK_FILE, exclusive_run
from tests.local_run.test_root_lock import FAST


@pytest.fixture
def flags(tmp_path, make_photo_folder):
    make_photo_folder(tmp_path / "photos", ["daisy", "roses"], per_class=4)
    return {"--data-root": str(tmp_path / "photos"), "--pipeline-root": str(tmp_path / "root"),
            "--serving-dir": str(tmp_path / "serving")}


def _run(flags: dict, capsys) -> tuple[int, list[str], list[str]]:
    status = main(["run", *[item for pair in flags.items() for item in pair], *FAST])
    out, err = capsys.readouterr()
    return status, out.splitlines(), [line for line in err.splitlines() if line.strip()]


def test_a_root_in_use_is_refused_with_a_result_line(flags, capsys):
    with exclusive_run(flags["--pipeline-root"]):
        status, out, err = _run(flags, capsys)
    assert status == 1 and len(err) == 1 and err[0].startswith("flowers-pipeline run: another run is using")
    assert out == [f"Result: failed (UserError: {err[0].split(': ', 1)[1]})"]


@pytest.mark.parametrize("blocked, message", [
    ("--pipeline-root", "PIPELINE_ROOT {path} is a file, not a folder; pass another --pipeline-root"),
    ("--serving-dir", "serving dir {path}: {path} is a file, not a folder; choose another --serving-dir"),
])
def test_a_file_where_a_folder_belongs_is_one_line(flags, capsys, tmp_path, blocked, message):
    path = tmp_path / "in-the-way"
    path.write_text("a file")
    status, out, err = _run({**flags, blocked: str(path)}, capsys)
    expected = message.format(path=path)
    assert (status, err, out) == (1, [f"flowers-pipeline run: {expected}"], [f"Result: failed (UserError: {expected})"])


def test_a_lock_file_that_is_a_folder_is_one_line(flags, capsys):
    lock = f"{flags['--pipeline-root']}/{LOCK_FILE}"
    os.makedirs(lock)
    status, out, err = _run(flags, capsys)
    expected = f"cannot open the run lock {lock}: Is a directory (a folder is in its place; remove it)"
    assert (status, err, out) == (1, [f"flowers-pipeline run: {expected}"], [f"Result: failed (UserError: {expected})"])


def test_a_stop_message_keeps_its_lines(capsys):
    """Row 9: the drift stop's details are lines of their own, as the README shows them, not `\\n` sequences."""
    _print_error("run", RunStopped("label drift: the label mix moved:\n  dandelion 0.20 -> 0.50"))
    assert capsys.readouterr().err.splitlines() == ["flowers-pipeline run: label drift: the label mix moved:",
                                                    "  dandelion 0.20 -> 0.50"]


@pytest.mark.e2e  # Runs ingestion for real.
def test_an_emptied_class_folder_stops_the_run(flags, capsys, tmp_path):
    """Row 12: a data problem found before training is `stopped`, exit 4, like the data checks' stops."""
    for photo in (tmp_path / "photos" / "roses").iterdir():
        photo.unlink()
    status, out, err = _run(flags, capsys)
    assert status == 4, err
    assert out[-1] == "Result: stopped (class(es) roses have no photo under " \
                      f"{tmp_path / 'photos'}/<class>/: every configured class needs at least one " \
                      "(or remove it from data.classes))"


def test_a_malformed_beam_argument_is_an_invalid_setting(flags, capsys):
    """Row 13 for `run`: parsed with Beam's own options before the run takes the root."""
    status = main(["run", *[item for pair in flags.items() for item in pair], "--beam-arg=--direct_num_workers=abc"])
    out, err = capsys.readouterr()
    err = [line for line in err.splitlines() if line.strip()]
    assert (status, out) == (2, "")
    assert err == ["flowers-pipeline run: invalid setting: --beam-arg: argument --direct_num_workers: "
                   "invalid int value: 'abc'"]
