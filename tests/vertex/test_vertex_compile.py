"""`flowers-pipeline compile`: the real DAG through KubeflowV2DagRunner, read back as a KFP pipeline spec."""

import json

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from pipeline import cli
from tests.vertex.vertex_fakes import IMAGE, PROJECT, REGION, SERVICE_ACCOUNT

TPU_IMAGE = "europe-docker.pkg.dev/flowers-prod/images/flowers-tpu:1"
ROOT = "gs://flowers-bucket/pipeline"
DAG_TASKS = {"FileBasedExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "AnomalyStop",
             "LabelDriftCheck", "LabelDriftStop", "Trainer", "EdgeExport", "Evaluator",
             "baseline_resolver-model-resolver", "baseline_resolver-model-blessing-resolver"}
BEAM_STEPS = ("FileBasedExampleGen", "StatisticsGen", "Evaluator")


def _compile_args(output, *extra):
    return ["compile", "--target", "vertex", "--project", PROJECT, "--region", REGION, "--pipeline-root", ROOT,
            "--serving-dir", "gs://flowers-bucket/serving", "--image", IMAGE, "--output", str(output), *extra]


def _compile(tmp_path, *extra) -> dict:
    output = tmp_path / "flowers.json"
    assert cli.main(_compile_args(output, *extra)) == 0
    return json.loads(output.read_text())


def _tasks(job: dict) -> dict:
    return job["pipelineSpec"]["root"]["dag"]["tasks"]


def _parameter(task: dict, name: str):
    return task["inputs"]["parameters"][name]["runtimeValue"]["constantValue"]["stringValue"]


def _trainer_config(job: dict) -> dict:
    return json.loads(_parameter(_tasks(job)["Trainer"], "custom_config"))


def _worker_pool(job: dict) -> dict:
    [pool] = _trainer_config(job)["ai_platform_training_args"]["job_spec"]["worker_pool_specs"]
    return pool


def _executor_args(job: dict, task: str) -> list[str]:
    return job["pipelineSpec"]["deploymentSpec"]["executors"][f"{task}_executor"]["container"]["args"]


@pytest.fixture(scope="module")
def tpu_job(tmp_path_factory) -> dict:
    return _compile(tmp_path_factory.mktemp("tpu"), "--accelerator", "tpu-v3-8", "--trainer-image", TPU_IMAGE,
                    "--service-account", SERVICE_ACCOUNT)


def test_compiled_json_is_a_kfp_pipeline_job_with_the_whole_dag(tpu_job):
    job = json_format.ParseDict(tpu_job, pipeline_spec_pb2.PipelineJob())
    spec = json_format.ParseDict(tpu_job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    assert job.runtime_config.gcs_output_directory == ROOT
    assert spec.pipeline_info.name == "flowers"
    assert set(spec.root.dag.tasks) == DAG_TASKS | {"AtomicPusher"}
    executors = tpu_job["pipelineSpec"]["deploymentSpec"]["executors"].values()  # A Struct in the proto.
    assert {e["container"]["image"] for e in executors if "container" in e} == {IMAGE}


def test_tpu_v3_trainer_runs_a_vertex_custom_job_on_the_tpu_image(tpu_job):
    config = _trainer_config(tpu_job)
    assert config["ai_platform_enable_vertex"] is True
    assert config["ai_platform_vertex_region"] == REGION
    assert config["ai_platform_training_args"]["project"] == PROJECT
    assert config["ai_platform_training_args"]["job_spec"]["service_account"] == SERVICE_ACCOUNT
    assert _worker_pool(tpu_job) == {
        "machine_spec": {"machine_type": "cloud-tpu", "accelerator_type": "TPU_V3", "accelerator_count": 8},
        "replica_count": 1, "container_spec": {"image_uri": TPU_IMAGE}}
    assert (config["training"]["accelerator"], config["training"]["tpu"]) == ("tpu", "local")
    assert "google_cloud_ai_platform.trainer.executor" in " ".join(_executor_args(tpu_job, "Trainer"))


def test_bundled_files_are_read_from_the_image(tpu_job):
    tasks = _tasks(tpu_job)
    assert _parameter(tasks["FileBasedExampleGen"], "input_base") == "/pipeline/data/sample_flowers"
    assert _parameter(tasks["ImportSchemaGen"], "schema_file") == "/pipeline/schemas/schema.pbtxt"
    weights = _trainer_config(tpu_job)["training"]["model_options"]["mobilenet_v2"]["weights"]
    assert weights.startswith("/pipeline/data/weights/")


def test_direct_runner_by_default(tpu_job):
    for step in BEAM_STEPS:
        args = _executor_args(tpu_job, step)
        assert "--direct_running_mode=in_memory" in args
        assert not any(a.startswith("--runner=") for a in args)


def test_tpu_v5e_gives_the_ct5lp_machine_and_topology(tmp_path):
    job = _compile(tmp_path, "--accelerator", "tpu-v5e-4", "--trainer-image", TPU_IMAGE)
    pool = _worker_pool(job)
    assert pool["machine_spec"] == {"machine_type": "ct5lp-hightpu-4t", "tpu_topology": "2x2"}
    assert pool["container_spec"]["image_uri"] == TPU_IMAGE
    assert {"name": "NEXT_PLUGGABLE_DEVICE_USE_C_API", "value": "true"} in pool["container_spec"]["env"]


@pytest.mark.parametrize("accelerator, machine_spec, kind", [
    ("gpu-nvidia-tesla-t4-1", {"machine_type": "n1-standard-8", "accelerator_type": "NVIDIA_TESLA_T4",
                               "accelerator_count": 1}, "gpu"),
    ("cpu", {"machine_type": "n1-standard-8"}, "cpu"),
])
def test_gpu_and_cpu_trainers_use_the_pipeline_image(tmp_path, accelerator, machine_spec, kind):
    job = _compile(tmp_path, "--accelerator", accelerator)
    assert _worker_pool(job) == {"machine_spec": machine_spec, "replica_count": 1,
                                 "container_spec": {"image_uri": IMAGE}}
    assert _trainer_config(job)["training"]["accelerator"] == kind


def test_dataflow_runner_reaches_every_beam_step(tmp_path):
    job = _compile(tmp_path, "--beam-runner", "dataflow", "--set", "vertex.dataflow_max_workers=20")
    for step in BEAM_STEPS:
        args = _executor_args(job, step)
        for expected in ("--runner=DataflowRunner", f"--project={PROJECT}", f"--region={REGION}",
                         f"--temp_location={ROOT}/beam/tmp", "--max_num_workers=20",
                         f"--sdk_container_image={IMAGE}"):
            assert expected in args, (step, expected)


def test_endpoint_swaps_in_the_registry_push_of_versions_with_the_champion_alias(tmp_path):
    job = _compile(tmp_path, "--set", "vertex.model_display_name=flowers", "--set",
                   "vertex.endpoint_display_name=flowers-endpoint")
    tasks = _tasks(job)
    assert "AtomicPusher" not in tasks
    pusher = tasks["RegistryPusher"]
    config = json.loads(_parameter(pusher, "custom_config"))
    target = config["flowers_vertex_registry"]
    assert {k: target[k] for k in ("project", "region", "model_display_name", "endpoint_display_name", "alias")} == {
        "project": PROJECT, "region": REGION, "model_display_name": "flowers",
        "endpoint_display_name": "flowers-endpoint", "alias": "champion"}
    assert target["serving_image"].startswith("europe-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.")
    assert set(pusher["inputs"]["artifacts"]) == {"model", "model_blessing",  # And the model card's records:
                                                  "examples", "model_run", "model_evaluation"}
    executor = job["pipelineSpec"]["deploymentSpec"]["executors"]["RegistryPusher_executor"]["container"]
    assert "components.push.vertex_registry.RegistryExecutor" in " ".join(executor["args"])


def test_a_model_name_alone_registers_versions_without_deploying(tmp_path):
    job = _compile(tmp_path, "--serving-dir", "runs/serving", "--set", "vertex.model_display_name=flowers")
    config = json.loads(_parameter(_tasks(job)["RegistryPusher"], "custom_config"))
    assert config["flowers_vertex_registry"]["endpoint_display_name"] == ""


def test_the_drift_check_compiles_and_says_why_it_has_no_baseline(tpu_job):
    check = _tasks(tpu_job)["LabelDriftCheck"]
    assert set(check["inputs"]["artifacts"]) == {"statistics"}
    assert "cannot look up" in _parameter(check, "no_baseline_reason")
    assert "LabelDriftStop" in _tasks(tpu_job)["Trainer"]["dependentTasks"]


def test_custom_classes_use_the_given_schema(tmp_path):
    job = _compile(tmp_path, "--data-root", "gs://flowers-bucket/photos", "--set", "data.classes=cats,dogs",
                   "--set", "vertex.schema_uri=gs://flowers-bucket/schema.pbtxt")
    assert _parameter(_tasks(job)["ImportSchemaGen"], "schema_file") == "gs://flowers-bucket/schema.pbtxt"
    assert _parameter(_tasks(job)["FileBasedExampleGen"], "input_base") == "gs://flowers-bucket/photos"


def test_submit_compiles_from_the_same_flags(tmp_path, capsys):
    args = _compile_args(tmp_path / "run.json")
    args[0] = "submit"
    assert cli.main([*args, "--dry-run", "--service-account", SERVICE_ACCOUNT]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed["pipeline_spec"]["tasks"]) == DAG_TASKS | {"AtomicPusher"}
    assert printed["PipelineJob"]["template_path"] == str(tmp_path / "run.json")
    assert printed["PipelineJob"]["pipeline_root"] == ROOT
    [pool] = printed["pipeline_spec"]["custom_jobs"]["Trainer"]["job_spec"]["worker_pool_specs"]
    assert pool["machine_spec"] == {"machine_type": "n1-standard-8"}
