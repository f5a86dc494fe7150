"""Compile the one DAG for Vertex AI Pipelines: `KubeflowV2DagRunner` writes the pipeline JSON.

Only where steps execute changes: the Trainer becomes a Vertex custom job on the requested accelerator, the
Beam steps may run on Dataflow, and the Pusher may deploy to a Vertex endpoint. Every path the containers
read must exist in the cloud, so local paths are either mapped into the pipeline image (files of this
project, installed at CONTAINER_PROJECT_DIR) or refused before anything is written.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from components.errors import UserError
from components.training.settings import TrainingSettings, model_option
from pipeline.beam_args import vertex_beam_args
from pipeline.vertex import spec
from pipeline.vertex.accelerators import Accelerator, parse_accelerator
from pipeline_config import PROJECT_DIR, ConfigError, PipelineConfig

CONTAINER_PROJECT_DIR = "/pipeline"  # Where the Dockerfile puts this project inside the images.
SERVING_TF_VERSION = "2.15"  # Newest prebuilt Vertex TensorFlow serving image known to this SDK.
ENDPOINT_MACHINE_TYPE = "n1-standard-2"
ACCELERATOR_KEY = "vertex_accelerator"  # In the Trainer's custom_config: the --accelerator the job was built for.


@dataclasses.dataclass(frozen=True)
class VertexTarget:
    """A config checked for Vertex, with container paths in place of local ones, and its accelerator."""

    config: PipelineConfig
    accelerator: Accelerator
    schema_file: str


def compile_pipeline(config: PipelineConfig, output_file: str) -> dict[str, Any]:
    """Write the Vertex pipeline JSON to `output_file` and return it as a dict."""
    from tfx import v1 as tfx

    target = prepare_target(config, work_dir=os.path.dirname(os.path.abspath(output_file)))
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=target.config.vertex.image),
        output_dir=os.path.dirname(os.path.abspath(output_file)),
        output_filename=os.path.basename(output_file),
    )
    job = runner.run(build_pipeline(target))
    spec.check_artifact_types(spec.Template(output_file, job))  # Before anyone submits it.
    return job


def build_pipeline(target: VertexTarget):
    """create_pipeline() with the cloud Trainer, Pusher and baseline resolver swapped in."""
    from pipeline.pipeline import create_pipeline

    return create_pipeline(
        target.config,
        schema_file=target.schema_file,
        beam_pipeline_args=vertex_beam_args(target.config),
        make_trainer=trainer_factory(target.config, target.accelerator),
        make_pusher=pusher_factory(target.config),
        make_baseline_resolver=stock_baseline_resolver,
        make_drift_baseline_resolver=stock_drift_baseline_resolver,
    )


def prepare_target(config: PipelineConfig, work_dir: str | None = None) -> VertexTarget:
    """Refuse what cannot run on Vertex; map bundled files to their container paths; pick the accelerator;
    place the schema (a derived copy is written under `work_dir`, to be uploaded)."""
    accelerator = parse_accelerator(config.vertex.accelerator)
    check_deployable(config, accelerator)
    config = config.with_overrides({
        "data.data_root": container_path("data.data_root", config.data.data_root),
        **_model_file_paths(config.training),
        **_accelerator_settings(config, accelerator),
    })
    return VertexTarget(config, accelerator, _schema_file(config, work_dir or tempfile.mkdtemp()))


def container_path(field: str, value: str) -> str:
    """gs:// stays; a file of this project becomes its path in the image; any other local path is refused."""
    if value.startswith("gs://"):
        return value
    path = Path(value).resolve()
    if not path.is_relative_to(PROJECT_DIR):
        raise UserError(f"{field}={value!r} is a local path; Vertex containers cannot read it. "
                        f"Copy it to Cloud Storage (gsutil -m cp -r ...) and pass the gs:// path")
    return f"{CONTAINER_PROJECT_DIR}/{path.relative_to(PROJECT_DIR).as_posix()}"


def trainer_factory(config: PipelineConfig, accelerator: Accelerator) -> Callable[..., Any]:
    """Builds the Vertex Trainer from the DAG's own Trainer arguments plus the custom job keys."""
    from tfx import v1 as tfx

    vertex_ai = tfx.extensions.google_cloud_ai_platform
    vertex = config.vertex
    pools = accelerator.worker_pool_specs(vertex.trainer_image or vertex.image)
    job_spec: dict[str, Any] = {"worker_pool_specs": pools}
    if vertex.service_account:
        job_spec["service_account"] = vertex.service_account
    job_keys = {
        ACCELERATOR_KEY: accelerator.name,
        vertex_ai.ENABLE_VERTEX_KEY: True,
        vertex_ai.VERTEX_REGION_KEY: vertex.region,
        vertex_ai.TRAINING_ARGS_KEY: {"project": vertex.project, "job_spec": job_spec},
    }

    def make_trainer(*, custom_config: dict[str, Any], **trainer_args: Any):
        return vertex_ai.Trainer(custom_config={**custom_config, **job_keys}, **trainer_args)

    return make_trainer


def pusher_factory(config: PipelineConfig) -> Callable[..., Any] | None:
    """None keeps the DAG's filesystem Pusher (to the gs:// serving dir); a model name means the registry push.

    It uploads each blessed model as a new version of the one Model named vertex.model_display_name, moves the
    `champion` alias to it and, with vertex.endpoint_display_name, deploys it there (components/push/
    vertex_registry.py); like the filesystem Pusher it checks the Evaluator's blessing first.
    """
    vertex = config.vertex
    if not vertex.model_display_name:
        return None
    from google.cloud.aiplatform import helpers

    from components.push.vertex_registry import RegistryTarget, registry_pusher

    target = RegistryTarget(
        project=vertex.project, region=vertex.region, model_display_name=vertex.model_display_name,
        serving_image=helpers.get_prebuilt_prediction_container_uri("tensorflow", SERVING_TF_VERSION,
                                                                    region=vertex.region),
        endpoint_display_name=vertex.endpoint_display_name, machine_type=ENDPOINT_MACHINE_TYPE)

    # The registry replaces the serving dir; TFLite files stay in EdgeExport's artifact (it takes one SavedModel).
    def make_pusher(*, model, model_blessing, push_destination=None, edge_model=None, **card_inputs):  # noqa: ARG001
        return registry_pusher(model, model_blessing, target, **card_inputs)

    return make_pusher


def stock_baseline_resolver(candidate):
    """The gate's baseline on Vertex: KubeflowV2DagRunner compiles only the stock strategies, so this one cannot
    exclude the candidate, and the first identical rerun evaluates the candidate against itself once (the
    AtomicPusher then sees the same model already served and adds no version)."""
    from components.evaluation import LatestBlessedModelResolver

    return LatestBlessedModelResolver(candidate.type)


def stock_drift_baseline_resolver():
    """The drift check's baseline on Vertex: the latest recorded label mix through the stock latest-artifact
    strategy, which compiles to a `schema_title` and `state` query that answers nothing before the first record."""
    from tfx import v1 as tfx

    from components.validation import DriftBaselineResolver

    return DriftBaselineResolver(tfx.dsl.experimental.LatestArtifactStrategy)


def check_deployable(config: PipelineConfig, accelerator: Accelerator) -> None:
    """Every rule a config must meet to run on Vertex, beyond the local paths that `container_path` maps or refuses.

    Each step runs in a container that reads only Cloud Storage, so the roots and the schema must be gs:// (the
    Model Registry can stand in for the serving dir), and the images must exist. Contradictory settings are a
    ConfigError naming the field, like an invalid value.
    """
    vertex = config.vertex
    _require_setting(not vertex.schema_uri or vertex.schema_uri.startswith("gs://"), "vertex.schema_uri",
                     "must be a gs:// path (Vertex containers cannot read local files)")
    _require_setting(not vertex.endpoint_display_name or vertex.model_display_name, "vertex.endpoint_display_name",
                     "needs vertex.model_display_name (a model must be uploaded before it is deployed)")
    require_project(config)
    _require(vertex.image, "no pipeline image: build the Dockerfile, push it and pass --image URI")
    tpu_reason = " (TPUs read only from Cloud Storage)" if accelerator.is_tpu else ""
    _require(config.pipeline_root.startswith("gs://"),
             f"pipeline_root={config.pipeline_root!r} is local; Vertex steps{tpu_reason} need a gs:// "
             f"pipeline root: pass --pipeline-root gs://BUCKET/pipeline")
    _require(not accelerator.is_tpu or vertex.trainer_image,
             "TPU training needs the TPU trainer image (Dockerfile.tpu): pass --trainer-image URI")
    _require(vertex.model_display_name or config.serving_dir.startswith("gs://"),
             f"serving_dir={config.serving_dir!r} is local; pass --serving-dir gs://BUCKET/serving "
             f"(or register the models with vertex.model_display_name)")


def require_project(config: PipelineConfig) -> None:
    """The one rule that also holds for sending an already compiled pipeline and for managing schedules."""
    _require(config.vertex.project, "no Google Cloud project: pass --project or --set vertex.project=P")


def _accelerator_settings(config: PipelineConfig, accelerator: Accelerator) -> dict[str, str]:
    """The Trainer's strategy resolver must look for the hardware the job runs on."""
    chosen = config.training.accelerator
    _require(chosen in ("auto", accelerator.kind),
             f"training.accelerator={chosen!r} contradicts --accelerator {accelerator.name}")
    settings = {"training.accelerator": accelerator.kind}
    if accelerator.is_tpu and not config.training.tpu:
        settings["training.tpu"] = "local"  # On a Vertex TPU VM the TPU is attached to the job's own host.
    return settings


def _model_file_paths(training: TrainingSettings) -> dict[str, str]:
    """The chosen model's options that name local files (its module says which), as container paths."""
    options = training.options()
    fields = {option: model_option(training.model, option) for option in options.local_files()}
    return {field: container_path(field, getattr(options, option)) for option, field in fields.items()}


def _schema_file(config: PipelineConfig, work_dir: str) -> str:
    """The curated schema baked into the image, or vertex.schema_uri when the classes or size differ from it."""
    if config.vertex.schema_uri:
        return config.vertex.schema_uri
    import schemas

    local = Path(schemas.schema_file(config.data.classes, config.data.image_size, work_dir)).resolve()
    if local.is_relative_to(PROJECT_DIR):
        return container_path("schema", str(local))
    raise UserError(f"these classes or this image size need a derived schema, written to {local}; copy it to "
                    f"Cloud Storage (gsutil cp {local} gs://BUCKET/schema.pbtxt) and pass "
                    f"--set vertex.schema_uri=gs://BUCKET/schema.pbtxt")


def _require(condition: Any, message: str) -> None:
    if not condition:
        raise UserError(message)


def _require_setting(condition: Any, field: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{field}: {message}")
