"""The drift check's baseline: the statistics of the examples the latest blessed model was trained on.

Found through ML Metadata lineage: latest blessed Model -> the Trainer execution that wrote it -> its `examples`
input -> the StatisticsGen outputs computed on those examples. The Resolver node has no upstream node, so it can
feed a check that runs before the Trainer.
"""

from __future__ import annotations

from typing import Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx import v1 as tfx
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts

from components.evaluation.resolver import BLESSING_KEY, MODEL_KEY, latest_blessed_other_than

STATISTICS_KEY = "statistics"
_EXAMPLES_KEY = "examples"  # The Trainer's input key.
_INPUT, _OUTPUT = metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.OUTPUT


def training_statistics_ids(store: mlmd.MetadataStore, model_id: int) -> set[int]:
    """Ids of the artifacts computed from the examples that trained `model_id` (statistics among them)."""
    trainer_ids = _execution_ids(store, [model_id], _OUTPUT)
    examples_ids = {e.artifact_id for e in store.get_events_by_execution_ids(list(trainer_ids))
                    if e.type == _INPUT and e.path.steps and e.path.steps[0].key == _EXAMPLES_KEY}
    consumer_ids = _execution_ids(store, list(examples_ids), _INPUT)
    return {e.artifact_id for e in store.get_events_by_execution_ids(list(consumer_ids)) if e.type == _OUTPUT}


class BaselineTrainingStatisticsStrategy(resolver.ResolverStrategy):
    """Resolves `statistics` to the newest statistics of the latest blessed model's training examples."""

    def resolve_artifacts(self, store: mlmd.MetadataStore,
                          input_dict: dict[str, list[types.Artifact]]) -> Optional[dict[str, list[types.Artifact]]]:
        model, blessing = latest_blessed_other_than(input_dict.get(MODEL_KEY, []), input_dict.get(BLESSING_KEY, []),
                                                    set())
        wanted = training_statistics_ids(store, model[0].id) if model else set()
        statistics = [a for a in input_dict.get(STATISTICS_KEY, []) if a.id in wanted]
        newest = sorted(statistics, key=lambda a: a.id)[-1:]
        return {MODEL_KEY: model, BLESSING_KEY: blessing, STATISTICS_KEY: newest}


def BaselineStatisticsResolver() -> tfx.dsl.Resolver:  # noqa: N802
    """A Resolver node whose `outputs['statistics']` is the baseline's training statistics (empty if none).

    Local runs only: KubeflowV2DagRunner compiles just the two stock strategies (latest artifact, latest blessed
    model), and neither can follow lineage, so the Vertex DAG leaves the drift check without a baseline.
    """
    return tfx.dsl.Resolver(strategy_class=BaselineTrainingStatisticsStrategy,
                            model=tfx.dsl.Channel(type=standard_artifacts.Model),
                            model_blessing=tfx.dsl.Channel(type=standard_artifacts.ModelBlessing),
                            statistics=tfx.dsl.Channel(type=standard_artifacts.ExampleStatistics))


def _execution_ids(store: mlmd.MetadataStore, artifact_ids: list[int], event_type: int) -> set[int]:
    if not artifact_ids:
        return set()
    return {e.execution_id for e in store.get_events_by_artifact_ids(artifact_ids) if e.type == event_type}
