"""Reading a compiled Vertex pipeline (the PipelineJob JSON of `flowers-pipeline compile --target vertex`).

The one reader of KFP's JSON keys: `submit`/`schedule` summarise a template with it, `replay` runs one, and
the tests inspect one. Tasks, their component definitions and executors are joined here, so no caller walks
`pipelineSpec` itself.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterator

import yaml

from components.errors import UserError

# tfx.extensions.google_cloud_ai_platform.TRAINING_ARGS_KEY, spelled here so reading a template needs no TFX.
TRAINING_ARGS_KEY = "ai_platform_training_args"
CUSTOM_CONFIG = "custom_config"


@dataclasses.dataclass(frozen=True)
class Task:
    """One node of the DAG: its task spec, its component definition and its executor (container or resolver)."""

    name: str
    spec: dict[str, Any]
    component: dict[str, Any]
    executor: dict[str, Any]

    @property
    def is_resolver(self) -> bool:
        return "resolver" in self.executor

    @property
    def container(self) -> dict[str, Any]:
        return self.executor.get("container", {})

    @property
    def upstream(self) -> set[str]:
        """The tasks this one waits for: declared dependencies and the producers of its input artifacts."""
        producers = {a["taskOutputArtifact"]["producerTask"] for a in self.input_artifacts.values()
                     if "taskOutputArtifact" in a}
        return set(self.spec.get("dependentTasks", [])) | producers

    @property
    def input_artifacts(self) -> dict[str, dict[str, Any]]:
        return self.spec.get("inputs", {}).get("artifacts", {})

    @property
    def caching(self) -> bool:
        return bool(self.spec.get("cachingOptions", {}).get("enableCache"))

    def artifact_type(self, direction: str, key: str) -> dict[str, Any]:
        """The `artifactType` of an input (`inputDefinitions`) or output (`outputDefinitions`) artifact."""
        return self.component[direction]["artifacts"][key]["artifactType"]

    def output_keys(self) -> list[str]:
        return sorted(self.component.get("outputDefinitions", {}).get("artifacts", {}))

    def parameters(self, runtime_values: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
        """Input parameters as KFP `Value`s (`{"stringValue": ...}`, `{"intValue": ...}`, ...): the compiled
        constants, and the pipeline's runtime parameters taken from `runtime_values`."""
        values = {}
        for name, parameter in self.spec.get("inputs", {}).get("parameters", {}).items():
            if "componentInputParameter" in parameter:
                values[name] = (runtime_values or {})[parameter["componentInputParameter"]]
            else:
                values[name] = parameter.get("runtimeValue", {}).get("constantValue", {})
        return values

    def custom_config(self) -> dict[str, Any]:
        parameter = self.spec.get("inputs", {}).get("parameters", {}).get(CUSTOM_CONFIG, {})
        text = parameter.get("runtimeValue", {}).get("constantValue", {}).get("stringValue")
        return (json.loads(text) or {}) if text else {}

    def custom_job_args(self) -> dict[str, Any] | None:
        """The Vertex custom job a Trainer task starts (TFX's `ai_platform_training_args`), or None."""
        return self.custom_config().get(TRAINING_ARGS_KEY)


@dataclasses.dataclass(frozen=True)
class Template:
    path: str
    job: dict[str, Any]

    @property
    def spec(self) -> dict[str, Any]:
        return self.job["pipelineSpec"]

    @property
    def name(self) -> str:
        return self.spec["pipelineInfo"]["name"]

    @property
    def pipeline_root(self) -> str:
        return self.job.get("runtimeConfig", {}).get("gcsOutputDirectory", "")

    @property
    def runtime_parameters(self) -> list[str]:
        return sorted(self.runtime_defaults())

    def runtime_defaults(self) -> dict[str, dict[str, Any]]:
        """The pipeline's runtime parameters with their compiled defaults, as KFP `Value`s."""
        declared = self.spec["root"].get("inputDefinitions", {}).get("parameters", {})
        return {name: definition.get("defaultValue", {}) for name, definition in declared.items()}

    def task(self, name: str) -> Task:
        spec = self.spec["root"]["dag"]["tasks"][name]
        component = self.spec["components"][spec["componentRef"]["name"]]
        executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
        return Task(name, spec, component, executor)

    def tasks(self) -> list[Task]:
        return [self.task(name) for name in sorted(self.spec["root"]["dag"]["tasks"])]

    def tasks_in_order(self) -> list[Task]:
        """Every task after the ones it waits for (ties by name, so the order is the same every time)."""
        pending = {task.name: task for task in self.tasks()}
        done: list[Task] = []
        while pending:
            ready = sorted(name for name, task in pending.items() if not task.upstream - {t.name for t in done})
            if not ready:
                raise UserError(f"{self.path}: the tasks {sorted(pending)} wait for each other")
            done.extend(pending.pop(name) for name in ready)
        return done

    def needed_by(self, name: str) -> set[str]:
        """The task and every task it waits for, transitively."""
        if name not in self.spec["root"]["dag"]["tasks"]:
            raise UserError(f"no task {name!r} in {self.path}; its tasks: {', '.join(t.name for t in self.tasks())}")
        needed, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current not in needed:
                needed.add(current)
                todo.extend(self.task(current).upstream)
        return needed

    def images(self) -> list[str]:
        return sorted({t.container["image"] for t in self.tasks() if t.container.get("image")})

    def custom_jobs(self) -> dict[str, Any]:
        """Per task that starts a Vertex custom job (the Trainer), the job arguments it will send."""
        return {task.name: args for task in self.tasks() if not task.is_resolver
                for args in [task.custom_job_args()] if args}

    def artifact_titles(self) -> set[str]:
        """The schema title of every artifact type a task reads or writes."""
        return {schema_title(definition["artifactType"]) for _, definition in self._artifact_definitions()}

    def _artifact_definitions(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for component in self.spec["components"].values():
            for direction in ("inputDefinitions", "outputDefinitions"):
                yield from component.get(direction, {}).get("artifacts", {}).items()


def schema_title(artifact_type: dict[str, Any]) -> str:
    """`tfx.Examples`, `components.EdgeModel`: the title KFP keys an artifact type by."""
    if "schemaTitle" in artifact_type:
        return artifact_type["schemaTitle"]
    return (yaml.safe_load(artifact_type.get("instanceSchema", "")) or {}).get("title", "tfx.Artifact")


def artifact_type_class(title: str):
    """The TFX artifact class of a schema title, found exactly as TFX's Vertex container entry point finds it
    (`kubeflow_v2_entrypoint_utils._parse_raw_artifact`): a title it cannot import fails a task on Vertex."""
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as entrypoint
    from tfx.utils import import_utils

    type_schema = pipeline_spec_pb2.ArtifactTypeSchema(schema_title=title)
    return import_utils.import_class_by_path(entrypoint._retrieve_class_path(type_schema))  # noqa: SLF001


def check_artifact_types(template: Template) -> None:
    """Every artifact type of the template must be importable in a container by its title (`<module>.<Class>`)."""
    for title in sorted(template.artifact_titles()):
        try:
            artifact_type_class(title)
        except (ImportError, AttributeError) as error:
            raise UserError(f"artifact type {title!r} cannot be imported by TFX's Vertex entry point, so the "
                            f"tasks that read or write it would fail on Vertex: {error}") from None


def load_template(template_path: str) -> Template:
    try:
        with open(template_path) as file:
            job = json.load(file)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read the compiled pipeline {template_path}: {error}") from None
    if not isinstance(job, dict) or "pipelineSpec" not in job:
        raise UserError(f"{template_path} is not a compiled pipeline (no pipelineSpec); "
                        f"write one with `flowers-pipeline compile`")
    return Template(template_path, job)
