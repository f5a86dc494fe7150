"""What cannot run on Vertex is refused at compile time, with a message saying what to do instead."""

import pytest

from pipeline import cli
from tests.vertex.vertex_fakes import IMAGE, PROJECT

TPU = ["--accelerator", "tpu-v3-8", "--trainer-image", "europe-docker.pkg.dev/p/r/flowers-tpu:1"]
CLOUD = ["--pipeline-root", "gs://flowers-bucket/pipeline", "--serving-dir", "gs://flowers-bucket/serving"]


def _compile(tmp_path, capsys, *flags) -> str:
    output = tmp_path / "flowers.json"
    status = cli.main(["compile", "--project", PROJECT, "--image", IMAGE, "--output", str(output), *flags])
    assert status == 1
    assert not output.exists()
    return capsys.readouterr().err


def test_tpu_target_refuses_a_local_pipeline_root(tmp_path, capsys):
    error = _compile(tmp_path, capsys, *TPU, "--pipeline-root", str(tmp_path / "root"))
    assert "TPUs read only from Cloud Storage" in error
    assert "--pipeline-root gs://" in error
    assert "Traceback" not in error


def test_tpu_target_needs_the_tpu_trainer_image(tmp_path, capsys):
    assert "--trainer-image" in _compile(tmp_path, capsys, *CLOUD, "--accelerator", "tpu-v5e-8")


@pytest.mark.parametrize("flags, message", [
    (["--data-root", "/home/me/photos"], "data.data_root='/home/me/photos' is a local path"),
    (["--weights", "/home/me/backbone.h5"],
     "training.model_options.mobilenet_v2.weights='/home/me/backbone.h5' is a local path"),
    (["--serving-dir", "runs/serving"], "--serving-dir gs://"),
    (["--set", "training.accelerator=gpu", *TPU], "contradicts --accelerator tpu-v3-8"),
    (["--accelerator", "tpu-v4-8"], "tpu-v5e-4"),
])
def test_settings_that_cannot_run_on_vertex(tmp_path, capsys, flags, message):
    assert message in _compile(tmp_path, capsys, *CLOUD, *flags)


def test_other_classes_need_an_uploaded_schema(tmp_path, capsys):
    error = _compile(tmp_path, capsys, *CLOUD, "--data-root", "gs://flowers-bucket/photos",
                     "--set", "data.classes=cats,dogs")
    assert "vertex.schema_uri=gs://" in error
    assert str(tmp_path) in error, "the derived schema is written next to the output, ready to upload"


def test_schema_uri_must_be_on_cloud_storage(tmp_path, capsys):
    output = tmp_path / "flowers.json"
    assert cli.main(["compile", "--output", str(output), "--set", "vertex.schema_uri=schema.pbtxt"]) == 2
    assert "vertex.schema_uri" in capsys.readouterr().err


def test_project_and_image_are_required(tmp_path, capsys):
    assert cli.main(["compile", *CLOUD, "--image", IMAGE]) == 1
    assert "--project" in capsys.readouterr().err
    assert cli.main(["compile", *CLOUD, "--project", PROJECT]) == 1
    assert "--image" in capsys.readouterr().err
