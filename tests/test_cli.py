"""The `flowers-pipeline` command line: dispatch, config errors before anything runs, module entry point."""

import subprocess
import sys

import pytest

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


def _one_line_refusal(capsys, argv, status=2) -> str:
    assert cli.main(argv) == status
    error = capsys.readouterr().err.strip()
    assert "Traceback" not in error and len(error.splitlines()) == 1, error
    return error


@pytest.mark.parametrize("flags, message", [
    (["--model", "../../x"], "training.model: unknown model '../../x'; known models: mobilenet_v2, squeezenet"),
    (["--weights", "/etc/passwd"],
     "training.model_options.mobilenet_v2.weights: /etc/passwd is not a Keras MobileNetV2 .h5 weights file"),
    (["--weights", "/no/such/backbone.h5"],
     "training.model_options.mobilenet_v2.weights: '/no/such/backbone.h5' is not a file"),
    (["--set", "training.seed=-1"], "training.seed: must be between 0 and 4294967295"),
    (["--set", "training.learning_rate=inf"], "training.learning_rate: must be a finite number, not inf"),
])
def test_bad_model_weights_and_numbers_fail_in_one_line_before_anything_runs(tmp_path, capsys, flags, message):
    error = _one_line_refusal(capsys, ["run", "--pipeline-root", str(tmp_path / "root"), *flags])
    assert message in error
    assert not (tmp_path / "root").exists()


def test_weights_of_an_unknown_width_are_refused(tmp_path, capsys):
    import h5py

    odd = tmp_path / "odd.h5"
    with h5py.File(odd, "w") as weights_file:
        weights_file.create_dataset("block_16_project/block_16_project/kernel:0", shape=(1, 1, 8, 100), dtype="f4")
    error = _one_line_refusal(capsys, ["run", "--pipeline-root", str(tmp_path / "root"), "--weights", str(odd)])
    assert "100 channels in its last block, which matches no MobileNetV2 alpha" in error


@pytest.mark.parametrize("batch_size", ["0", "-1", "many"])
def test_predict_refuses_a_batch_size_below_one_in_one_line(tmp_path, capsys, batch_size):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "--model-dir", str(tmp_path), "--batch-size", batch_size, "photo.jpg"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"--batch-size: must be a whole number of at least 1, not '{batch_size}'" in error
    assert "Traceback" not in error


@pytest.mark.parametrize("command", ["run", "ingest", "report", "models", "compile", "submit", "schedule"])
def test_every_command_that_builds_a_config_takes_the_same_settings(command):
    from pipeline.commands.config_args import config_from_args

    required = ["--output-dir", "out"] if command == "ingest" else []
    args = cli.build_parser().parse_args([command, *required, "--image-size", "64", "--accept-drift",
                                          "--set", "beam.extra_args=--a=1", "--beam-arg=--b=2,3"])
    config = config_from_args(args, check_model=False)
    assert config.data.image_size == 64 and config.validation.max_label_drift == 1
    assert config.beam.extra_args == ("--a=1", "--b=2,3")  # --beam-arg adds to the list, commas and all.
