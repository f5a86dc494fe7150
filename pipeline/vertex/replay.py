"""Run a compiled Vertex pipeline on this machine, task by task, the way Vertex AI Pipelines runs it.

Nothing is rebuilt from the config: the template is the whole input. Each container task runs its own
command and args with the placeholders filled as Vertex fills them (`{{$}}` is the task's ExecutorInput:
parameters, input artifacts and output artifacts with their URIs, and the output file the executor answers
in), after its `preCacheCheck` hook if it has one. This machine's Python stands in for the image, with the
image's project path (/pipeline) mapped to this checkout, and every gs:// path mapped to a folder under the
work dir. Resolver tasks evaluate their `outputArtifactQueries` against the artifacts of earlier replays in
the same work dir, and a task whose cache key (component, executor, parameters, input artifacts) matches an
earlier replay's is served from it, as Vertex caches. The Trainer's CustomJob is recorded and its worker
pool runs here on the CPU (pipeline/vertex/local_custom_job.py).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from typing import Any, TextIO

from components.errors import RunStopped, UserError
from pipeline.vertex import local_custom_job
from pipeline.vertex.replay_store import Execution, ReplayStore
from pipeline.vertex.runner import CONTAINER_PROJECT_DIR
from pipeline.vertex.spec import Task, Template

GCS_DIR = "gcs"  # gs://BUCKET/PATH -> <work dir>/gcs/BUCKET/PATH
METADATA_FILE = "metadata.sqlite"
OUTPUT_FILE = "executor_output.json"
LOG_FILE = "log.txt"
VERTEX_EXECUTOR_MODULE = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
_PLACEHOLDER = re.compile(r"\{\{\$(?:\.[^}]*)?\}\}")
_CONDITION = re.compile(r"inputs\.artifacts\['([\w.]+)'\]\.artifacts\[0\]\.metadata\['(\w+)'\]\s*(==|!=)\s*(.+)")
_FILTER_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.artifacts\['(\w+)'\]\.metadata\['(\w+)'\]\}\}")


@dataclasses.dataclass(frozen=True)
class PathMap:
    """Where the template's cloud and image paths live on this machine."""

    work_dir: str
    project_dir: str

    def local(self, value: str) -> str:
        if value.startswith("gs://"):
            return os.path.join(self.work_dir, GCS_DIR, value[len("gs://"):])
        if value == CONTAINER_PROJECT_DIR or value.startswith(CONTAINER_PROJECT_DIR + "/"):
            return self.project_dir + value[len(CONTAINER_PROJECT_DIR):]
        return value

    def to_cloud(self, text: str) -> str:
        """The reverse mapping, on text (JSON escapes included): local folders back to gs:// and /pipeline."""
        text = text.replace(os.path.join(self.work_dir, GCS_DIR) + "/", "gs://")
        return text.replace(self.project_dir + "/", CONTAINER_PROJECT_DIR + "/")

    def apply(self, value: Any) -> Any:
        """Map every path inside a value, JSON text included (custom_config is a JSON string)."""
        if isinstance(value, dict):
            return {key: self.apply(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.apply(item) for item in value]
        if isinstance(value, str) and value[:1] in "{[":
            try:
                return json.dumps(self.apply(json.loads(value)), sort_keys=True)
            except ValueError:
                return value
        return self.local(value) if isinstance(value, str) else value

    def buckets(self, template: Template) -> list[str]:
        """The gs:// buckets the template names, for the mapping printed at the start."""
        return sorted(set(re.findall(r"gs://([a-z0-9][a-z0-9._-]*)", json.dumps(template.job))))


@dataclasses.dataclass
class TaskResult:
    task: str
    state: str  # ran | cached | resolved | skipped | failed | not run
    seconds: float = 0.0
    detail: str = ""
    error_class: str = ""


class TaskFailed(Exception):
    """A replayed task's container exited with an error; the message is the task's own first error line."""


@dataclasses.dataclass
class Replay:
    template: Template
    paths: PathMap
    store: ReplayStore
    out: TextIO
    run_id: str = dataclasses.field(default_factory=lambda: datetime.datetime.now().isoformat())
    produced: dict[str, dict[str, list[str]]] = dataclasses.field(default_factory=dict)
    results: list[TaskResult] = dataclasses.field(default_factory=list)

    @property
    def job_name(self) -> str:
        return f"{self.template.name}-{re.sub(r'[^0-9]', '', self.run_id)[:20]}"

    @property
    def pipeline_root(self) -> str:
        return self.paths.local(self.template.pipeline_root)

    def task_dir(self, task_name: str) -> str:
        return os.path.join(self.pipeline_root, "replay", self.job_name, task_name)

    def log_path(self, task_name: str) -> str:
        return os.path.join(self.task_dir(task_name), LOG_FILE)

    def run(self, until: str | None = None) -> list[TaskResult]:
        """Every task in dependency order, or with `until` only that task and what it needs."""
        wanted = self.template.needed_by(until) if until else None
        run_context = self.store.begin_run(self.template.name, self.run_id)
        for task in self.template.tasks_in_order():
            if wanted is not None and task.name not in wanted:
                continue
            if any(r.state == "failed" for r in self.results):
                self._report(TaskResult(task.name, "not run", detail="an earlier task failed"))
                continue
            started = time.time()
            inputs = self._inputs(task)
            skipped = self._skip_reason(task, inputs)
            if skipped:
                self._report(TaskResult(task.name, "skipped", detail=skipped))
                continue
            result, execution = (self._resolve if task.is_resolver else self._execute)(task, inputs)
            result.seconds = time.time() - started
            self.store.record(self.template.name, run_context,
                              dataclasses.replace(execution, started=started, ended=time.time()))
            if result.state != "failed":
                self.produced[task.name] = execution.outputs
            self._report(result)
        return self.results

    def error(self) -> Exception | None:
        """The first failure as the exception `run` would have raised: a data stop is a RunStopped."""
        failed = next((r for r in self.results if r.state == "failed"), None)
        if failed is None:
            return None
        stops = _is_run_stop(failed.error_class)
        kind = type(failed.error_class.rsplit(".", 1)[-1] or "TaskFailed", (RunStopped if stops else TaskFailed,), {})
        return kind(failed.detail)

    # Tasks.

    def _inputs(self, task: Task) -> dict[str, list[str]]:
        inputs = {}
        for key, source in task.input_artifacts.items():
            producer = source.get("taskOutputArtifact")
            if producer is None:
                raise UserError(f"task {task.name}: input {key} is not another task's output ({sorted(source)})")
            inputs[key] = self.produced.get(producer["producerTask"], {}).get(producer["outputArtifactKey"], [])
        return inputs

    def _skip_reason(self, task: Task, inputs: dict[str, list[str]]) -> str:
        """Why Vertex would not start the task: an upstream task was skipped, or its trigger condition is false."""
        skipped = sorted(r.task for r in self.results if r.state == "skipped" and r.task in task.upstream)
        if skipped:
            return f"{', '.join(skipped)} skipped"
        condition = task.spec.get("triggerPolicy", {}).get("condition")
        if condition and not self._condition_holds(task, condition, inputs):
            return f"its condition {condition} is false"
        return ""

    def _condition_holds(self, task: Task, condition: str, inputs: dict[str, list[str]]) -> bool:
        """A trigger condition as TFX's Cond compiles it: comparisons of input artifacts' metadata, with &&."""
        def holds(clause: str) -> bool:
            match = _CONDITION.fullmatch(clause.strip().strip("()").strip())
            if match is None:
                raise UserError(f"task {task.name}: replay cannot evaluate the condition {condition!r}")
            key, field, operator, expected = match.groups()
            if not inputs.get(key):
                return False
            runtime = self.store.runtime_artifact(inputs[key][0], task.artifact_type("inputDefinitions", key))
            value = runtime.get("metadata", {}).get(field)
            expected_value = json.loads(expected.replace("'", '"'))
            return (value == expected_value) == (operator == "==")

        return all(holds(clause) for clause in condition.strip().strip("()").split("&&"))

    def _resolve(self, task: Task, inputs: dict[str, list[str]]) -> tuple[TaskResult, Execution]:
        outputs, found = {}, []
        for key, query in task.executor["resolver"]["outputArtifactQueries"].items():
            text = self._fill_filter(task, query["filter"], inputs)
            names = self.store.query(text)[:1] if text is not None else []
            outputs[key] = names
            found.append(f"{key}: {'found ' + names[0].rsplit('/', 1)[-1] if names else 'nothing'}")
        return (TaskResult(task.name, "resolved", detail="; ".join(found)),
                Execution(task.name, "resolved", inputs, outputs))

    def _fill_filter(self, task: Task, text: str, inputs: dict[str, list[str]]) -> str | None:
        """The filter with `{{$.inputs.artifacts['k'].metadata['p']}}` filled; None when that input is empty."""
        values = {}
        for key, field in _FILTER_PLACEHOLDER.findall(text):
            if not inputs.get(key):
                return None
            metadata = self.store.runtime_artifact(inputs[key][0], task.artifact_type("inputDefinitions", key))
            values[(key, field)] = str(metadata.get("metadata", {}).get(field, ""))
        return _FILTER_PLACEHOLDER.sub(lambda m: values[(m.group(1), m.group(2))], text)

    def _execute(self, task: Task, inputs: dict[str, list[str]]) -> tuple[TaskResult, Execution]:
        task_dir = self.task_dir(task.name)
        os.makedirs(task_dir, exist_ok=True)
        parameters = self._parameters(task)
        executor_input = self._executor_input(task, inputs, parameters, task_dir)
        log_path = self.log_path(task.name)
        hook = task.container.get("lifecycle", {}).get("preCacheCheck")
        if hook and self._run_command(task, hook["command"], hook["args"], executor_input, log_path) != 0:
            return self._failed(task, inputs, parameters, log_path, "its preCacheCheck hook failed")
        cache_key = _cache_key(task, parameters, inputs, _driver_parameters(task_dir))
        cached = self.store.cached(self.template.name, task.name, cache_key) if task.caching else None
        if cached is not None:
            return TaskResult(task.name, "cached"), Execution(task.name, "cached", inputs, cached, cache_key,
                                                              parameters=parameters)
        job_dir = task_dir if task.custom_job_args() else None
        status = self._run_command(task, task.container["command"], task.container["args"], executor_input,
                                   log_path, job_dir=job_dir)
        if status != 0:
            return self._failed(task, inputs, parameters, log_path, f"exited with status {status}", job_dir)
        try:
            detail = self._custom_job_detail(task, job_dir) if job_dir else ""
        except UserError as mismatch:
            return (TaskResult(task.name, "failed", detail=str(mismatch), error_class="UserError"),
                    Execution(task.name, "failed", inputs, {}, error=str(mismatch), parameters=parameters))
        outputs = self.store.add_artifacts(_written_artifacts(task, executor_input, task_dir),
                                           prefix=f"{self.job_name}.{task.name}")
        return TaskResult(task.name, "ran", detail=detail), Execution(task.name, "ran", inputs, outputs, cache_key,
                                                                      parameters=parameters)

    def _parameters(self, task: Task) -> dict[str, Any]:
        """The task's parameters with the template's paths mapped to this machine."""
        return self.paths.apply(task.parameters(self.template.runtime_defaults()))

    def _executor_input(self, task: Task, inputs: dict[str, list[str]], parameters: dict[str, Any],
                        task_dir: str) -> dict[str, Any]:
        """The task's ExecutorInput, as Vertex writes it for `{{$}}`."""
        from google.protobuf import json_format
        from kfp.pipeline_spec import pipeline_spec_pb2

        input_artifacts = {key: {"artifacts": [self.store.runtime_artifact(name, task.artifact_type(
            "inputDefinitions", key)) for name in names]} for key, names in inputs.items()}
        output_artifacts = {key: {"artifacts": [{"name": "", "uri": os.path.join(task_dir, key), "metadata": {},
                                                 "type": task.artifact_type("outputDefinitions", key)}]}
                            for key in task.output_keys()}
        executor_input = {"inputs": {"parameters": parameters, "artifacts": input_artifacts},
                          "outputs": {"artifacts": output_artifacts, "outputFile": os.path.join(task_dir, OUTPUT_FILE)}}
        json_format.ParseDict(executor_input, pipeline_spec_pb2.ExecutorInput())  # What Vertex would accept.
        return executor_input

    def _run_command(self, task: Task, command: list[str], args: list[str], executor_input: dict[str, Any],
                     log_path: str, job_dir: str | None = None) -> int:
        argv = [_fill(part, task, executor_input) for part in [*command, *args]]
        if job_dir:  # The Trainer's task: the same entry point, with the CustomJob service stood in for.
            argv = [local_custom_job.__name__ if part == VERTEX_EXECUTOR_MODULE else part for part in argv]
        argv = [sys.executable if i == 0 and part == "python" else part for i, part in enumerate(argv)]
        env = {**os.environ, "PYTHONPATH": self.paths.project_dir, "TF_USE_LEGACY_KERAS": "1",
               "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        if job_dir:
            env[local_custom_job.JOB_DIR_ENV] = job_dir
        with open(log_path, "a") as log:
            return subprocess.run(argv, cwd=self.paths.project_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  check=False).returncode

    def _failed(self, task: Task, inputs: dict[str, list[str]], parameters: dict[str, Any], log_path: str,
                fallback: str, job_dir: str | None = None) -> tuple[TaskResult, Execution]:
        logs = [os.path.join(job_dir, local_custom_job.WORKER_LOG)] if job_dir else []
        error_class, message = first_error([*logs, log_path], fallback)
        return (TaskResult(task.name, "failed", detail=message, error_class=error_class),
                Execution(task.name, "failed", inputs, {}, error=message, parameters=parameters))

    def _custom_job_detail(self, task: Task, job_dir: str) -> str:
        """Check the recorded CustomJob, rewritten with the paths Vertex would see (gs://, /pipeline)."""
        request_path = os.path.join(job_dir, local_custom_job.REQUEST_FILE)
        with open(request_path) as file:
            request = json.loads(self.paths.to_cloud(file.read()))
        with open(request_path, "w") as file:
            json.dump(request, file, indent=2, sort_keys=True)
        return describe_custom_job(request, task.custom_config(), request_path)

    def _report(self, result: TaskResult) -> None:
        self.results.append(result)
        timing = f" in {result.seconds:.1f} s" if result.state in ("ran", "failed", "resolved") else ""
        detail = f": {result.detail}" if result.detail else ""
        print(f"  {result.task:<42} {result.state}{timing}{detail}", file=self.out, flush=True)


def describe_custom_job(request: dict[str, Any], custom_config: dict[str, Any], request_path: str) -> str:
    """One line on the CustomJob the Trainer sent, checked against the accelerator the template was compiled
    for; a mismatch is an error, since on Vertex it would train on other hardware than asked."""
    from pipeline.vertex.accelerators import parse_accelerator
    from pipeline.vertex.runner import ACCELERATOR_KEY

    [pool, *_] = request["custom_job"]["job_spec"]["worker_pool_specs"]
    sent = pool["machine_spec"]
    machine = ", ".join(f"{k} {v}" for k, v in sorted(sent.items()))
    if ACCELERATOR_KEY not in custom_config:
        return (f"CustomJob ({machine}) recorded in {request_path} (the template does not say which accelerator "
                "it was compiled for: recompile to have it checked); its worker pool ran here on the CPU")
    asked = parse_accelerator(custom_config[ACCELERATOR_KEY])
    if sent != asked.machine_spec:
        raise UserError(f"the Trainer's CustomJob asks for {sent}, but the template was compiled for "
                        f"{asked.name} ({asked.machine_spec}); see {request_path}")
    return (f"CustomJob for {asked.name} ({machine}; image {pool['container_spec']['image_uri']}) recorded in "
            f"{request_path}; its worker pool ran here on the CPU")


def first_error(log_paths: list[str], fallback: str) -> tuple[str, str]:
    """(exception class, its first message line) of the last traceback in the first log that has one."""
    for path in log_paths:
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as file:
            lines = file.read().splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
        if not starts:
            continue
        for line in lines[starts[-1] + 1:]:
            if line and not line.startswith((" ", "\t")):
                kind, _, message = line.partition(": ")
                return kind, message or kind
    return "", fallback


def _is_run_stop(error_class: str) -> bool:
    """Whether a task's exception class (as its traceback names it) is a RunStopped, a data stop."""
    if "." not in error_class:
        return False
    from tfx.utils import import_utils

    try:
        return issubclass(import_utils.import_class_by_path(error_class), RunStopped)
    except (ImportError, AttributeError, TypeError):
        return False


def _fill(part: str, task: Task, executor_input: dict[str, Any]) -> str:
    """Vertex's placeholders: `{{$}}` is the whole ExecutorInput as JSON; TFX compiles no other."""
    def replace(match: re.Match) -> str:
        if match.group(0) == "{{$}}":
            return json.dumps(executor_input)
        raise UserError(f"task {task.name}: placeholder {match.group(0)} is not supported by replay")

    return _PLACEHOLDER.sub(replace, part)


def _driver_parameters(task_dir: str) -> dict[str, Any]:
    """The parameters a preCacheCheck driver wrote (span, input fingerprint, ...): part of the cache key."""
    path = os.path.join(task_dir, OUTPUT_FILE)
    if not os.path.exists(path):
        return {}
    with open(path) as file:
        written = json.load(file)
    return {**written.get("parameters", {}), **written.get("parameterValues", {})}


def _cache_key(task: Task, parameters: dict[str, Any], inputs: dict[str, list[str]],
               driver_parameters: dict[str, Any]) -> str:
    """What Vertex keys a cached task on: the component, the container, parameters and input artifact names."""
    key = {"component": task.component, "container": {k: v for k, v in task.container.items() if k != "lifecycle"},
           "parameters": {**parameters, **driver_parameters}, "inputs": inputs}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _written_artifacts(task: Task, executor_input: dict[str, Any], task_dir: str) -> dict[str, list[dict]]:
    """The output artifacts as the executor answered them in its output file (metadata included), typed by
    the task's output definitions; an output it did not mention keeps the URI it was given."""
    declared = {key: value["artifacts"] for key, value in executor_input["outputs"]["artifacts"].items()}
    path = os.path.join(task_dir, OUTPUT_FILE)
    answered = {}
    if os.path.exists(path):
        with open(path) as file:
            answered = json.load(file).get("artifacts", {})
    return {key: [{**artifact, "type": task.artifact_type("outputDefinitions", key)}
                  for artifact in answered.get(key, {}).get("artifacts", declared[key])]
            for key in declared}


def replay(template: Template, work_dir: str, project_dir: str, out: TextIO, until: str | None = None) -> Replay:
    """Replay the template once under `work_dir` (earlier replays there are its ML Metadata and cache)."""
    paths = PathMap(os.path.abspath(work_dir), project_dir)
    for bucket in paths.buckets(template):
        print(f"  gs://{bucket}/ -> {paths.local(f'gs://{bucket}/')}", file=out)
    os.makedirs(paths.work_dir, exist_ok=True)
    session = Replay(template, paths, ReplayStore(os.path.join(paths.work_dir, METADATA_FILE)), out)
    session.run(until)
    return session
