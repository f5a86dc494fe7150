"""`flowers-pipeline label-issues`: one line a doubted photo, and a one-line error without a run to read."""

from __future__ import annotations

from pipeline import cli
from pipeline.commands.label_issues import format_issues


def test_each_issue_is_one_line_with_its_score_split_labels_and_path():
    issues = [{"path": "/photos/roses/a\x1b[2J.jpg", "split": "train", "given": "roses", "suggested": "tulips",
               "probabilities": [0.0, 0.0, 0.04, 0.0, 0.96], "score": 0.04},
              {"path": "/photos/daisy/b.jpg", "split": "eval", "given": "daisy", "suggested": "dandelion",
               "probabilities": [0.2, 0.8, 0.0, 0.0, 0.0], "score": 0.2}]
    lines = format_issues(issues, "run-7").splitlines()
    assert lines[0].startswith("2 label issue(s) listed for run run-7") and len(lines) == 4
    assert lines[2].split()[:4] == ["0.040", "train", "roses", "->"] and "tulips" in lines[2]
    assert lines[2].endswith("/photos/roses/a\\x1b[2J.jpg")  # A file name cannot drive the terminal.
    assert lines[3].split()[:2] == ["0.200", "eval"] and lines[3].endswith("/photos/daisy/b.jpg")


def test_without_metadata_it_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["label-issues", "--pipeline-root", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "run `flowers-pipeline run` first" in error and len(error.strip().splitlines()) == 1


def test_a_negative_limit_is_refused(tmp_path, capsys):
    assert cli.main(["label-issues", "--limit", "-1", "--pipeline-root", str(tmp_path)]) == 1
    assert "--limit -1" in capsys.readouterr().err
