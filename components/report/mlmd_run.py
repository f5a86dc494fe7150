"""The latest run of a pipeline in ML Metadata: its executions and the artifacts they read and wrote."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

_STATES = {
    metadata_store_pb2.Execution.COMPLETE: "ran",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.CANCELED: "canceled",
    metadata_store_pb2.Execution.NEW: "new",
}
_INPUT = metadata_store_pb2.Event.INPUT
_OUTPUT = metadata_store_pb2.Event.OUTPUT


@dataclasses.dataclass
class Step:
    """One execution of the run, with its node id and artifacts by event key (e.g. 'model', 'blessing')."""

    execution: metadata_store_pb2.Execution
    node_id: str
    inputs: dict[str, list[metadata_store_pb2.Artifact]]
    outputs: dict[str, list[metadata_store_pb2.Artifact]]

    @property
    def state(self) -> str:
        return _STATES.get(self.execution.last_known_state, "unknown")

    @property
    def seconds(self) -> float:
        e = self.execution
        return max(0.0, (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000.0)

    def property(self, name: str) -> str:
        value = self.execution.custom_properties.get(name)
        return value.string_value if value is not None else ""


class RunReader:
    """Read-only view of one pipeline's latest run in a SQLite ML Metadata store."""

    def __init__(self, metadata_path: str):
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = metadata_path
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
        self.store = metadata_store.MetadataStore(config)
        self._type_names = {t.id: t.name for t in self.store.get_artifact_types()}

    @classmethod
    def open(cls, metadata_path: str) -> Optional["RunReader"]:
        return cls(metadata_path) if os.path.exists(metadata_path) else None

    def latest_run(self, pipeline_name: str) -> Optional[metadata_store_pb2.Context]:
        """The newest pipeline_run context under the pipeline's context (ties broken by id)."""
        pipeline = self.store.get_context_by_type_and_name("pipeline", pipeline_name)
        if pipeline is None:
            return None
        runs = [c for c in self.store.get_children_contexts_by_context(pipeline.id) if c.type == "pipeline_run"]
        return max(runs, key=lambda c: (c.create_time_since_epoch, c.id), default=None)

    def run(self, pipeline_name: str, run_id: str) -> Optional[metadata_store_pb2.Context]:
        """The pipeline_run context named run_id, if it belongs to the pipeline."""
        run = self.store.get_context_by_type_and_name("pipeline_run", run_id)
        pipeline = self.store.get_context_by_type_and_name("pipeline", pipeline_name)
        parents = {c.id for c in self.store.get_parent_contexts_by_context(run.id)} if run else set()
        return run if run and pipeline and pipeline.id in parents else None

    def steps(self, run: metadata_store_pb2.Context) -> list[Step]:
        """The run's executions in the order they started."""
        executions = sorted(self.store.get_executions_by_context(run.id), key=lambda e: e.id)
        return [self._step(e) for e in executions]

    def type_name(self, artifact: metadata_store_pb2.Artifact) -> str:
        return self._type_names.get(artifact.type_id, "")

    def producer(self, artifact: metadata_store_pb2.Artifact) -> Optional[metadata_store_pb2.Execution]:
        """The execution that first wrote the artifact (a cached execution only re-links it)."""
        ids = [e.execution_id for e in self.store.get_events_by_artifact_ids([artifact.id]) if e.type == _OUTPUT]
        return self.store.get_executions_by_id([min(ids)])[0] if ids else None

    def _step(self, execution: metadata_store_pb2.Execution) -> Step:
        node_contexts = [c for c in self.store.get_contexts_by_execution(execution.id) if c.type == "node"]
        node_id = node_contexts[0].name.split(".", 1)[-1] if node_contexts else execution.type.rsplit(".", 1)[-1]
        events = self.store.get_events_by_execution_ids([execution.id])
        artifacts = {a.id: a for a in self.store.get_artifacts_by_id([e.artifact_id for e in events])}
        inputs: dict[str, list] = {}
        outputs: dict[str, list] = {}
        for event in events:
            target = inputs if event.type == _INPUT else outputs if event.type == _OUTPUT else None
            if target is not None and event.artifact_id in artifacts:
                keys = [step.key for step in event.path.steps if step.HasField("key")] or [""]
                for key in keys:  # An artifact read under two keys (a model that is its own baseline).
                    target.setdefault(key, []).append(artifacts[event.artifact_id])
        return Step(execution, node_id, inputs, outputs)
