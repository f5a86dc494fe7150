"""`flowers-pipeline compile`: the real DAG through KubeflowV2DagRunner, read back as a KFP pipeline spec."""

import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from pipeline import cli
from tests.vertex.vertex_fakes import IMAGE, PROJECT, REGION, SERVICE_ACCOUNT

TPU_IMAGE = "europe-docker.pkg.dev/flowers-prod/images/flowers-tpu:1"
ROOT = "gs://flowers-bucket/pipeline"
DAG_TASKS = {"FileBasedExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "AnomalyStop",
             "drift_baseline_resolver", "LabelDriftCheck", "LabelDriftStop", "Trainer", "EdgeExport", "Evaluator",
             "LabelDriftBaseline", "baseline_resolver-model-resolver", "baseline_resolver-model-blessing-resolver"}
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


def _output_titles(job: dict, task: str) -> dict[str, str]:
    """Output key -> schema title of a task's component, read from its artifact type's YAML schema."""
    outputs = job["pipelineSpec"]["components"][task].get("outputDefinitions", {}).get("artifacts", {})
    return {key: yaml.safe_load(spec["artifactType"]["instanceSchema"])["title"] for key, spec in outputs.items()}


def test_the_drift_check_takes_the_latest_label_mix_recorded_by_a_blessed_run(tpu_job):
    tasks = _tasks(tpu_job)
    executors = tpu_job["pipelineSpec"]["deploymentSpec"]["executors"]
    query = executors["drift_baseline_resolver_executor"]["resolver"]["outputArtifactQueries"]
    assert query == {"baseline": {"filter": 'schema_title="tfx.Statistics" AND state=LIVE'}}
    check = tasks["LabelDriftCheck"]["inputs"]["artifacts"]
    assert check["baseline"]["taskOutputArtifact"] == {"producerTask": "drift_baseline_resolver",
                                                       "outputArtifactKey": "baseline"}
    assert "LabelDriftStop" in tasks["Trainer"]["dependentTasks"]
    record = tasks["LabelDriftBaseline"]
    assert record["triggerPolicy"]["condition"] == (
        "(inputs.artifacts['_Evaluator.blessing'].artifacts[0].metadata['blessed'] == 1.0)")
    assert record["inputs"]["artifacts"]["statistics"]["taskOutputArtifact"]["producerTask"] == "StatisticsGen"
    # The query matches by title only: the record must be the one output of its type in the whole DAG.
    writers = {(task, key) for task in tpu_job["pipelineSpec"]["components"]
               for key, title in _output_titles(tpu_job, task).items() if title == "tfx.Statistics"}
    assert writers == {("LabelDriftBaseline", "baseline"), ("drift_baseline_resolver", "baseline")}


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


def test_every_artifact_type_in_the_template_is_importable_by_the_vertex_entry_point(tpu_job):
    """TFX's container entry point imports a custom type by its schema title; `flowers.EdgeModel` named no
    module, so EdgeExport and the pusher failed on Vertex before their own code ran."""
    from tfx.types.artifact import Artifact

    from components.edge import EdgeModel
    from pipeline.vertex.spec import Template, artifact_type_class

    titles = Template("compiled", tpu_job).artifact_titles()
    assert {"tfx.Examples", "tfx.Model", "tfx.ModelBlessing", EdgeModel.TYPE_NAME} <= titles
    for title in titles:
        assert issubclass(artifact_type_class(title), Artifact), title
    assert artifact_type_class(EdgeModel.TYPE_NAME) is EdgeModel


def test_compile_refuses_a_template_with_an_artifact_type_a_container_cannot_import(tpu_job):
    from components.errors import UserError
    from pipeline.vertex.spec import Template, check_artifact_types

    job = json.loads(json.dumps(tpu_job).replace("components.EdgeModel", "flowers.EdgeModel"))
    with pytest.raises(UserError, match="'flowers.EdgeModel' cannot be imported by TFX's Vertex entry point"):
        check_artifact_types(Template("compiled", job))


def test_incremental_ingestion_compiles_the_stock_latest_examples_query(tmp_path):
    job = _compile(tmp_path, "--set", "data.incremental=true")
    tasks = _tasks(job)
    resolver = [name for name in tasks if name.startswith("previous_examples_resolver")]
    assert set(tasks) == DAG_TASKS | {"AtomicPusher", *resolver} and len(resolver) == 1
    previous = tasks["FileBasedExampleGen"]["inputs"]["artifacts"]["previous_examples"]["taskOutputArtifact"]
    assert previous["producerTask"] == resolver[0]
    query = json.dumps(job["pipelineSpec"]["deploymentSpec"]["executors"][f"{resolver[0]}_executor"])
    assert "tfx.Examples" in query
