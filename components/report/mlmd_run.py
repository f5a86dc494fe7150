"""A pipeline's runs in ML Metadata: one run's executions and the artifacts they read and wrote, and the models
blessed across all its runs."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.types.standard_component_specs import PUSHED_MODEL_KEY

from components.artifacts import BLESSED_PROPERTY, CURRENT_MODEL_ID_PROPERTY

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


@dataclasses.dataclass
class Blessing:
    """A model the gate blessed: the Evaluator's step that did, its run, and what the Pushers that read it wrote."""

    blessing: metadata_store_pb2.Artifact
    evaluator: Step
    run_id: str
    pushed_models: list[metadata_store_pb2.Artifact]


class RunReader:
    """Read-only view of a pipeline's runs in a SQLite ML Metadata store."""

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

    def blessings(self, pipeline_name: str) -> list[Blessing]:
        """Every model blessed in any run of the pipeline, oldest first, once each (a model blessed again, e.g.
        against a newer baseline, counts from its first blessing)."""
        query = (f"type = 'ModelBlessing' AND contexts_p.type = 'pipeline' AND contexts_p.name = '{pipeline_name}' "
                 f"AND custom_properties.{BLESSED_PROPERTY}.int_value = 1")
        found = self.store.get_artifacts(list_options=metadata_store.ListOptions(filter_query=query))
        first: dict[int, metadata_store_pb2.Artifact] = {}
        for blessing in sorted(found, key=lambda a: (a.create_time_since_epoch, a.id)):
            model_id = blessing.custom_properties[CURRENT_MODEL_ID_PROPERTY].int_value
            first.setdefault(model_id, blessing)
        return [self._blessing(blessing) for blessing in first.values()]

    def _blessing(self, blessing: metadata_store_pb2.Artifact) -> Blessing:
        evaluator = self.producer(blessing)
        runs = [c.name for c in self.store.get_contexts_by_execution(evaluator.id) if c.type == "pipeline_run"]
        readers = {e.execution_id for e in self.store.get_events_by_artifact_ids([blessing.id]) if e.type == _INPUT}
        pushed = [artifact for execution in self.store.get_executions_by_id(sorted(readers))
                  for artifact in self._step(execution).outputs.get(PUSHED_MODEL_KEY, [])]
        return Blessing(blessing, self._step(evaluator), runs[0] if runs else "", pushed)

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
