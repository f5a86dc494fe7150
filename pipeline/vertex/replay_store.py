"""The ML Metadata a replay keeps, as Vertex ML Metadata keeps a pipeline's: artifacts, executions, cache keys.

A SQLite MLMD store under the replay's work dir, laid out as TFX's own runners lay theirs out (a `pipeline`
context, a `pipeline_run` context per run, a `node` context per task, INPUT/OUTPUT events keyed by the
artifact's key), so the run summary and the HTML report read a replay exactly as they read a local run.
Artifacts are named as Vertex names them (a resource name, not a number): resolver queries match on that
name, and the Evaluator's `current_model_id` holds it.

Artifacts cross between this store and the task containers as KFP `RuntimeArtifact`s, converted by TFX's own
entry-point functions, so each side sees what it would see on Vertex.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from typing import Any

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as entrypoint
from tfx.types import artifact_utils

from components.errors import UserError
from pipeline.vertex.spec import artifact_type_class, schema_title

CACHE_KEY = "cache_key"
ERROR = "error"
RESOURCE_PREFIX = "projects/replay/locations/local/metadataStores/default/artifacts/"
STATES = {"ran": metadata_store_pb2.Execution.COMPLETE, "cached": metadata_store_pb2.Execution.CACHED,
          "resolved": metadata_store_pb2.Execution.COMPLETE, "failed": metadata_store_pb2.Execution.FAILED}
_EVENTS = {"inputs": metadata_store_pb2.Event.INPUT, "outputs": metadata_store_pb2.Event.OUTPUT}
_CONTEXT_TYPES = ("pipeline", "pipeline_run", "node")
# One clause of the filters TFX compiles for its resolvers (tfx/orchestration/kubeflow/v2/step_builder.py).
_CLAUSE = re.compile(r'^\s*(schema_title|state|name|metadata\.(\w+)\.(number_value|string_value))\s*=\s*'
                     r'("(?:[^"\\]|\\.)*"|[\w.+-]+)\s*$')


@dataclasses.dataclass(frozen=True)
class Execution:
    """What one task did in a run, by artifact key; `outputs` are artifact names."""

    task: str
    state: str  # ran | cached | resolved | failed
    inputs: dict[str, list[str]]
    outputs: dict[str, list[str]]
    cache_key: str = ""
    error: str = ""
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0


class ReplayStore:
    """Read-write SQLite ML Metadata at `path` (created on first use)."""

    def __init__(self, path: str):
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = path
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.path = path
        self.store = metadata_store.MetadataStore(config)
        self._context_types = {name: self.store.put_context_type(metadata_store_pb2.ContextType(name=name))
                               for name in _CONTEXT_TYPES}

    # Runs and executions.

    def begin_run(self, pipeline_name: str, run_id: str) -> int:
        """The pipeline_run context of a new run, a child of the pipeline's context."""
        pipeline = self._context("pipeline", pipeline_name)
        run = self._context("pipeline_run", run_id)
        self.store.put_parent_contexts([metadata_store_pb2.ParentContext(child_id=run, parent_id=pipeline)])
        return run

    def record(self, pipeline_name: str, run: int, execution: Execution) -> int:
        """One task's execution, linked to its run and node and to the artifacts it read and wrote."""
        node = self._context("node", f"{pipeline_name}.{execution.task}")
        type_id = self.store.put_execution_type(metadata_store_pb2.ExecutionType(name=f"replay.{execution.task}"))
        mlmd = metadata_store_pb2.Execution(type_id=type_id, last_known_state=STATES[execution.state])
        for name, value in execution.parameters.items():  # Exec properties, as TFX records them locally.
            set_value(mlmd.custom_properties[name], value)
        mlmd.custom_properties[CACHE_KEY].string_value = execution.cache_key
        mlmd.custom_properties[ERROR].string_value = execution.error
        mlmd.custom_properties["state"].string_value = execution.state
        [execution_id] = self.store.put_executions([mlmd])
        events: dict[tuple[int, int], metadata_store_pb2.Event] = {}
        for direction in _EVENTS:  # One event per artifact and direction, naming every key it was under.
            for key, names in getattr(execution, direction).items():
                for i, name in enumerate(names):
                    artifact_id = self.artifact(name).id
                    event = events.setdefault((artifact_id, _EVENTS[direction]), metadata_store_pb2.Event(
                        artifact_id=artifact_id, execution_id=execution_id, type=_EVENTS[direction]))
                    event.path.steps.add().key = key
                    event.path.steps.add().index = i
        events = list(events.values())
        self.store.put_events(events)
        self.store.put_attributions_and_associations(
            [metadata_store_pb2.Attribution(artifact_id=e.artifact_id, context_id=c) for e in events
             for c in (run, node)],
            [metadata_store_pb2.Association(execution_id=execution_id, context_id=c) for c in (run, node)])
        self._set_times(execution_id, execution)
        return execution_id

    def cached(self, pipeline_name: str, task: str, cache_key: str) -> dict[str, list[str]] | None:
        """The outputs of the newest successful run of `task` with this cache key, as Vertex caches tasks."""
        node = self.store.get_context_by_type_and_name("node", f"{pipeline_name}.{task}")
        if node is None:
            return None
        successful = [e for e in self.store.get_executions_by_context(node.id)
                      if e.custom_properties[CACHE_KEY].string_value == cache_key
                      and e.custom_properties["state"].string_value == "ran"]
        if not successful:
            return None
        newest = max(successful, key=lambda e: e.id)
        outputs: dict[str, list[str]] = {}
        events = self.store.get_events_by_execution_ids([newest.id])
        artifacts = {a.id: a for a in self.store.get_artifacts_by_id([e.artifact_id for e in events])}
        for event in sorted(events, key=lambda e: e.path.steps[1].index if len(e.path.steps) > 1 else 0):
            if event.type == metadata_store_pb2.Event.OUTPUT:
                outputs.setdefault(event.path.steps[0].key, []).append(artifacts[event.artifact_id].name)
        return outputs

    # Artifacts.

    def add_artifacts(self, runtime_artifacts: dict[str, list[dict[str, Any]]], prefix: str) -> dict[str, list[str]]:
        """Store the artifacts a task wrote (KFP RuntimeArtifact dicts, `type` included); returns their names."""
        names: dict[str, list[str]] = {}
        for key, artifacts in runtime_artifacts.items():
            for i, runtime in enumerate(artifacts):
                name = f"{RESOURCE_PREFIX}{prefix}.{key}.{i}"
                tfx_artifact = _tfx_artifact({**runtime, "name": name})
                mlmd = tfx_artifact.mlmd_artifact
                _plain_custom_properties(mlmd)
                mlmd.ClearField("id")
                mlmd.name = name
                mlmd.state = metadata_store_pb2.Artifact.LIVE
                mlmd.type_id = self.store.put_artifact_type(tfx_artifact.artifact_type, can_add_fields=True)
                self.store.put_artifacts([mlmd])
                names.setdefault(key, []).append(name)
        return names

    def artifact(self, name: str) -> metadata_store_pb2.Artifact:
        [artifact] = self.store.get_artifacts(
            list_options=metadata_store.ListOptions(filter_query=f"name = '{name}'"))
        return artifact

    def runtime_artifact(self, name: str, artifact_type: dict[str, Any]) -> dict[str, Any]:
        """The artifact as a task's executor input carries it, typed as the reading task declares it."""
        mlmd = self.artifact(name)
        [mlmd_type] = self.store.get_artifact_types_by_id([mlmd.type_id])
        tfx_artifact = artifact_utils.deserialize_artifact(mlmd_type, mlmd)
        runtime = entrypoint.to_runtime_artifact(tfx_artifact, {mlmd.id: name})
        return {**json_format.MessageToDict(runtime), "type": artifact_type}

    def query(self, filter_text: str) -> list[str]:
        """The names of the artifacts a resolver's `outputArtifactQueries` filter selects, newest first."""
        clauses = [_parse_clause(filter_text, part) for part in re.split(r"\s+AND\s+", filter_text)]
        titles = [value for field, _, value in clauses if field == "schema_title"]
        if len(titles) != 1:
            raise UserError(f"resolver filter {filter_text!r}: expected one schema_title")
        type_name = artifact_type_class(titles[0]).TYPE_NAME
        matches = [a for a in self.store.get_artifacts_by_type(type_name)
                   if all(_matches(a, field, key, value) for field, key, value in clauses)]
        return [a.name for a in sorted(matches, key=lambda a: (a.create_time_since_epoch, a.id), reverse=True)]

    # Helpers.

    def _context(self, type_name: str, name: str) -> int:
        existing = self.store.get_context_by_type_and_name(type_name, name)
        if existing is not None:
            return existing.id
        [context_id] = self.store.put_contexts(
            [metadata_store_pb2.Context(type_id=self._context_types[type_name], name=name)])
        return context_id

    def _set_times(self, execution_id: int, execution: Execution) -> None:
        """MLMD stamps times itself; the report's seconds come from the task's own start and end."""
        [mlmd] = self.store.get_executions_by_id([execution_id])
        started = int((execution.started or time.time()) * 1000)
        mlmd.create_time_since_epoch = started
        mlmd.last_update_time_since_epoch = max(started, int((execution.ended or time.time()) * 1000))
        self.store.put_executions([mlmd])


def _tfx_artifact(runtime: dict[str, Any]):
    """A RuntimeArtifact dict -> the TFX artifact the entry point would build from it (properties included)."""
    artifact_pb = json_format.ParseDict(runtime, pipeline_spec_pb2.RuntimeArtifact(), ignore_unknown_fields=True)
    if not artifact_pb.type.WhichOneof("kind"):
        raise UserError(f"artifact {runtime.get('uri')} has no type")
    artifact_type_class(schema_title(runtime["type"]))  # An unimportable title fails here, as in a container.
    [tfx_artifact] = entrypoint.parse_raw_artifact_dict(
        {"a": pipeline_spec_pb2.ArtifactList(artifacts=[artifact_pb])}, {})["a"]
    return tfx_artifact


def _plain_custom_properties(mlmd: metadata_store_pb2.Artifact) -> None:
    """Custom properties as a TFX executor sets them (int, double, string), not as the struct values the entry
    point wraps every metadata item in, so readers see the store a local run writes (`blessed` is int 1)."""
    for value in mlmd.custom_properties.values():
        if value.WhichOneof("value") != "struct_value" or set(value.struct_value.fields) != {"__value__"}:
            continue
        item = json_format.MessageToDict(value.struct_value)["__value__"]
        if isinstance(item, bool) or not isinstance(item, (int, float, str)):
            continue
        if isinstance(item, str):
            value.string_value = item
        elif float(item).is_integer():
            value.int_value = int(item)
        else:
            value.double_value = float(item)


def set_value(target: metadata_store_pb2.Value, value: dict[str, Any]) -> None:
    """A KFP parameter `Value` ({"stringValue": ...}, {"intValue": ...}, ...) as an MLMD value."""
    if "intValue" in value:
        target.int_value = int(value["intValue"])
    elif "doubleValue" in value or "numberValue" in value:
        target.double_value = float(value.get("doubleValue", value.get("numberValue")))
    else:
        target.string_value = str(value.get("stringValue", json.dumps(value)))


def _parse_clause(filter_text: str, clause: str) -> tuple[str, str, str]:
    match = _CLAUSE.match(clause)
    if match is None:
        raise UserError(f"resolver filter {filter_text!r}: cannot evaluate {clause.strip()!r}")
    field = "metadata" if match.group(1).startswith("metadata.") else match.group(1)
    value = match.group(4)
    return field, match.group(2) or "", _unquote(value)


def _unquote(value: str) -> str:
    return value[1:-1].replace('\\"', '"') if value.startswith('"') else value


def _matches(artifact: metadata_store_pb2.Artifact, field: str, key: str, value: str) -> bool:
    if field == "schema_title":
        return True  # Selected by type already.
    if field == "state":
        return metadata_store_pb2.Artifact.State.Name(artifact.state) == value
    if field == "name":
        return artifact.name == value
    found = _property(artifact, key)
    if found is None:
        return False
    if isinstance(found, (int, float)):
        try:
            return float(found) == float(value)
        except ValueError:
            return False
    return str(found) == value


def _property(artifact: metadata_store_pb2.Artifact, key: str) -> Any:
    for mapping in (artifact.custom_properties, artifact.properties):
        if key in mapping:
            kind = mapping[key].WhichOneof("value")
            return getattr(mapping[key], kind) if kind else None
    return None
