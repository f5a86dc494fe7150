"""The `flowers-pipeline` command line: dispatch, config errors before anything runs, module entry point."""

import subprocess
import sys

from pipeline import cli


def test_bad_setting_fails_before_anything_runs(tmp_path, capsys):
    status = cli.main(["run", "--pipeline-root", str(tmp_path / "root"), "--set", "training.epoch=3"])
    assert status == 2
    assert "training.epoch" in capsys.readouterr().err
    assert not (tmp_path / "root").exists()


def test_bad_shortcut_value_names_the_field(tmp_path, capsys):
    status = cli.main(["run", "--pipeline-root", str(tmp_path / "root"), "--epochs", "-1"])
    assert status == 2
    assert "training.epochs" in capsys.readouterr().err


def test_every_command_is_listed_and_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True,
                            check=True)
    for command in ("ingest", "run"):
        assert command in result.stdout
