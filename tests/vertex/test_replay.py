"""`flowers-pipeline replay` on a real compiled template: the Vertex DAG run here, task by task, as Vertex runs it.

One work dir is shared by four replays, as one pipeline root is shared by a schedule's runs on Vertex: the
first blesses and pushes, the second is served from cache and compared with that blessing, the third stops
on label drift before training, the fourth retrains on new photos and is gated against version 1. A TPU
template then replays up to its Trainer, whose CustomJob request must ask for the TPU.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil

import pytest

from components.report import collect_run
from pipeline import cli
from pipeline.vertex import local_custom_job
from tests.vertex.vertex_fakes import IMAGE, PROJECT, REGION

pytestmark = pytest.mark.e2e  # Each replay starts every task's container command in its own process.

CLASSES = ("daisy", "roses")
BUCKET = "replay-bucket"
FAST = ["data.classes=" + ",".join(CLASSES), "data.image_size=32", "training.model=squeezenet",
        "training.epochs=2", "training.warmup_epochs=0", "training.batch_size=4", "gate.max_tflite_drop=1.0",
        f"vertex.schema_uri=gs://{BUCKET}/schema.pbtxt"]
TPU_IMAGE = "europe-docker.pkg.dev/flowers-prod/images/flowers-tpu:1"


def compile_template(path, *flags: str) -> str:
    argv = ["compile", "--target", "vertex", "--project", PROJECT, "--region", REGION, "--image", IMAGE,
            "--pipeline-root", f"gs://{BUCKET}/root", "--serving-dir", f"gs://{BUCKET}/serving",
            "--data-root", f"gs://{BUCKET}/photos", "--min-accuracy", "0", "--output", str(path), *flags]
    for setting in FAST:
        argv += ["--set", setting]
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(argv) == 0
    return str(path)


def replay(template: str, work_dir, *flags: str) -> tuple[int, str]:
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        status = cli.main(["replay", "--template", template, "--workdir", str(work_dir), *flags])
    return status, printed.getvalue()


def task_states(printed: str) -> dict[str, str]:
    """`  Trainer    ran in 3.1 s: ...` lines -> {task: state}."""
    return dict(re.findall(r"^  (\S+)\s+(ran|cached|resolved|skipped|failed|not run)\b", printed, re.M))


def add_photos(make_photo, folder, label: str, names: range) -> list:
    tint = CLASSES.index(label)
    return [make_photo(folder / label / f"new_{i:03d}.jpg", tint=tint) for i in names]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, make_photo_folder):
    """A work dir with the photos and the derived schema laid where the template's gs:// paths map to."""
    import schemas

    work_dir = tmp_path_factory.mktemp("replay")
    bucket = work_dir / "gcs" / BUCKET
    make_photo_folder(bucket / "photos", CLASSES, per_class=10)
    derived = schemas.schema_file(CLASSES, 32, str(work_dir))
    shutil.copy(derived, bucket / "schema.pbtxt")
    template = compile_template(work_dir / "flowers.json")
    return work_dir, bucket, template


@pytest.fixture(scope="module")
def first_replay(workspace):
    work_dir, bucket, template = workspace
    return replay(template, work_dir)


def served_versions(bucket) -> list[str]:
    serving = bucket / "serving"
    return sorted(v for v in os.listdir(serving) if v.isdigit()) if serving.is_dir() else []


def record_of(work_dir, bucket):
    return collect_run(str(work_dir / "metadata.sqlite"), "flowers", str(bucket / "root"))


def test_run_1_runs_every_task_blesses_and_pushes_version_1_with_its_tflite_files(workspace, first_replay):
    work_dir, bucket, template = workspace
    status, printed = first_replay
    states = task_states(printed)
    assert status == 0, printed
    assert printed.splitlines()[-1].startswith("Result: blessed (in service as ")
    assert f"gs://{BUCKET}/ -> {work_dir}/gcs/{BUCKET}/" in printed
    assert set(states.values()) == {"ran", "resolved"}, states
    assert states["LabelDriftBaseline"] == "ran"  # Its condition (a blessing) held.
    assert "its worker pool ran here on the CPU" in printed
    assert served_versions(bucket) == ["1"]
    assert sorted(os.listdir(bucket / "serving" / "1" / "tflite")) == [
        "labels.txt", "model_float16.tflite", "model_int8.tflite"]
    record = record_of(work_dir, bucket)
    assert record.gate.blessed and record.push.pushed and record.data.seen == 20
    assert "label drift: nothing to compare with" in printed


def test_run_2_is_served_from_cache_finds_the_blessed_baseline_and_pushes_nothing(workspace, first_replay):
    work_dir, bucket, template = workspace
    status, printed = replay(template, work_dir)
    states = task_states(printed)
    assert status == 0, printed
    for task in ("FileBasedExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "AnomalyStop",
                 "Trainer"):
        assert states[task] == "cached", (task, printed)
    assert re.search(r"baseline_resolver-model-resolver\s+resolved .*model: found ", printed)
    assert re.search(r"drift_baseline_resolver\s+resolved .*baseline: found ", printed)
    record = record_of(work_dir, bucket)
    assert record.drift.compared and record.drift.distance == 0.0
    assert record.gate.baseline is not None  # Evaluated against version 1's model.
    assert served_versions(bucket) == ["1"] and "already in service" in printed


def test_run_3_with_one_class_dumped_stops_on_label_drift_before_training(workspace, first_replay, make_photo):
    work_dir, bucket, template = workspace
    dumped = add_photos(make_photo, bucket / "photos", "roses", range(30))
    try:
        status, printed = replay(template, work_dir)
    finally:
        for path in dumped:
            path.unlink()
    states = task_states(printed)
    assert status == 4, printed
    assert printed.splitlines()[-1].startswith("Result: stopped (label drift ")
    assert states["FileBasedExampleGen"] == "ran" and states["LabelDriftStop"] == "failed"
    assert states["Trainer"] == "not run" and served_versions(bucket) == ["1"]


def test_run_4_with_new_photos_in_every_class_retrains_and_is_gated_against_version_1(workspace, first_replay,
                                                                                     make_photo):
    work_dir, bucket, template = workspace
    for label in CLASSES:
        add_photos(make_photo, bucket / "photos", label, range(100, 102))
    status, printed = replay(template, work_dir)
    states = task_states(printed)
    assert status in (0, 3), printed  # Tiny photos: the gate may refuse, but it must compare.
    assert states["FileBasedExampleGen"] == "ran" and states["Trainer"] == "ran" and states["Evaluator"] == "ran"
    record = record_of(work_dir, bucket)
    assert record.data.seen == 24 and record.drift.compared
    assert record.gate.baseline is not None
    assert served_versions(bucket) == (["1", "2"] if status == 0 else ["1"])


def test_a_tpu_template_replays_up_to_a_custom_job_asking_for_the_tpu(workspace, first_replay):
    work_dir, bucket, _ = workspace
    template = compile_template(work_dir / "flowers-tpu.json", "--accelerator", "tpu-v3-8",
                                "--trainer-image", TPU_IMAGE)
    status, printed = replay(template, work_dir, "--until", "Trainer")
    states = task_states(printed)
    assert status == 0 and printed.splitlines()[-1] == "Result: replayed up to Trainer", printed
    assert states["Trainer"] == "ran" and "Evaluator" not in states
    [request_path] = re.findall(r"recorded in (\S+custom_job_request\.json)", printed)
    request = json.loads(open(request_path).read())
    assert request["parent"] == f"projects/{PROJECT}/locations/{REGION}"
    [pool] = request["custom_job"]["job_spec"]["worker_pool_specs"]
    assert pool["machine_spec"] == {"machine_type": "cloud-tpu", "accelerator_type": "TPU_V3", "accelerator_count": 8}
    assert pool["container_spec"]["image_uri"] == TPU_IMAGE
    command = pool["container_spec"]["command"]
    assert command[:3] == ["python", "-m", "tfx.scripts.run_executor"]
    assert f"gs://{BUCKET}/root" in " ".join(command)  # Recorded with the paths Vertex would see.
    training = json.loads(json.loads(command[command.index(local_custom_job.EXEC_PROPERTIES_FLAG) + 1])[
        "custom_config"])["training"]
    assert training["accelerator"] == "tpu" and training["tpu"] == "local"  # As sent; only the local run is CPU.
