"""The drift check's baseline, passed through the pipeline's own inputs so that it works on Vertex as locally.

Vertex resolvers cannot follow lineage (blessed Model -> its Trainer -> that Trainer's examples -> their
statistics): KubeflowV2DagRunner compiles only TFX's stock LatestArtifactStrategy (`schema_title="tfx.<Type>" AND
state=LIVE`) and LatestBlessedModelStrategy, and a step container gets no ML Metadata handle. So the lineage is
cut short when it is known: a run whose model the Evaluator blesses records the label mix of its own photos
(`LabelDriftBaseline`, under a `Cond` on the blessing), and later runs resolve the latest such record with the
latest-artifact strategy: the label mix the latest blessed model was trained on, both locally and on Vertex.

The record is TFX's generic `Statistics` type, written by no other node (a custom type compiles to the query
`schema_title="tfx.Artifact"`, which matches nothing Vertex records; the standard types keep their titles).
"""

from __future__ import annotations

from typing import Optional

import ml_metadata as mlmd
from tfx import types
from tfx import v1 as tfx
from tfx.dsl.components.base.base_node import BaseNode
from tfx.dsl.components.common import resolver

from components.artifacts import BLESSED_PROPERTY
from components.validation.label_drift import BASELINE_TYPE, LabelDriftBaseline

BASELINE_KEY = "baseline"  # The resolver's output, LabelDriftCheck's input and LabelDriftBaseline's output.


class LatestRecordStrategy(resolver.ResolverStrategy):
    """The newest artifact of each channel, or none: the answer of the query the stock LatestArtifactStrategy
    compiles to on Vertex. Run locally, the stock strategy returns None for an empty channel, which fails the
    resolver node ("Input resolution error") on every run before the first blessing."""

    def resolve_artifacts(self, store: mlmd.MetadataStore,
                          input_dict: dict[str, list[types.Artifact]]) -> Optional[dict[str, list[types.Artifact]]]:
        return {key: sorted(artifacts, key=lambda a: a.id)[-1:] for key, artifacts in input_dict.items()}


def DriftBaselineResolver(strategy_class: type = LatestRecordStrategy) -> tfx.dsl.Resolver:  # noqa: N802
    """A Resolver node whose `outputs['baseline']` is the latest recorded label mix (empty before any blessing).

    It has no upstream node, so it can feed a check that runs before the Trainer. KubeflowV2DagRunner compiles
    only the stock strategies, so the Vertex runner passes LatestArtifactStrategy (pipeline/vertex/runner.py).
    """
    return tfx.dsl.Resolver(strategy_class=strategy_class, **{BASELINE_KEY: tfx.dsl.Channel(type=BASELINE_TYPE)})


def record_when_blessed(statistics: types.BaseChannel, blessing: types.BaseChannel) -> BaseNode:
    """LabelDriftBaseline of this run's statistics, run only when `blessing` is positive (skipped otherwise)."""
    with tfx.dsl.Cond(blessing.future()[0].custom_property(BLESSED_PROPERTY) == 1):
        return LabelDriftBaseline(statistics=statistics)
