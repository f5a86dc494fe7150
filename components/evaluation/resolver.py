"""The baseline for the gate: the latest blessed model that is not the candidate itself.

The stock LatestBlessedModelStrategy returns the candidate once it has been blessed, so an identical rerun (the
Trainer cached, same Model artifact) evaluates the model against itself, which changes the Evaluator's inputs,
defeats the cache and makes the Pusher push the same model again as a new version. Excluding the candidate keeps
the Evaluator's inputs of an identical rerun identical, so it and the Pusher are served from cache.
"""

from __future__ import annotations

from typing import Optional

import ml_metadata as mlmd
from tfx import types
from tfx import v1 as tfx
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts

from components.artifacts import BLESSED_PROPERTY, CURRENT_MODEL_ID_PROPERTY

MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
CANDIDATE_KEY = "candidate"


def latest_blessed_other_than(models: list[types.Artifact], blessings: list[types.Artifact],
                              excluded_ids: set[int]) -> tuple[list[types.Artifact], list[types.Artifact]]:
    """The newest model (highest id) with a positive blessing, skipping `excluded_ids`; ([], []) if none."""
    blessing_by_model = {b.get_int_custom_property(CURRENT_MODEL_ID_PROPERTY): b for b in sorted(blessings, key=_id)
                         if b.get_int_custom_property(BLESSED_PROPERTY) == 1}
    for model in sorted(models, key=_id, reverse=True):
        if model.id in blessing_by_model and model.id not in excluded_ids:
            return [model], [blessing_by_model[model.id]]
    return [], []


class LatestBlessedNotCandidateStrategy(resolver.ResolverStrategy):
    """Resolves {model, model_blessing} to the latest blessed model whose id differs from the candidate's."""

    def resolve_artifacts(self, store: mlmd.MetadataStore,
                          input_dict: dict[str, list[types.Artifact]]) -> Optional[dict[str, list[types.Artifact]]]:
        excluded = {a.id for a in input_dict.get(CANDIDATE_KEY, [])}
        model, blessing = latest_blessed_other_than(input_dict.get(MODEL_KEY, []), input_dict.get(BLESSING_KEY, []),
                                                    excluded)
        return {MODEL_KEY: model, BLESSING_KEY: blessing, CANDIDATE_KEY: input_dict.get(CANDIDATE_KEY, [])}


def BaselineResolver(candidate: types.BaseChannel) -> tfx.dsl.Resolver:  # noqa: N802
    """A Resolver node whose `outputs['model']` is the baseline for the Evaluator (empty on the first run).

    KubeflowV2DagRunner compiles only the stock strategies, so the Vertex runner passes LatestBlessedModelResolver
    in its place (pipeline/vertex/runner.py).
    """
    return tfx.dsl.Resolver(strategy_class=LatestBlessedNotCandidateStrategy,
                            model=tfx.dsl.Channel(type=candidate.type),
                            model_blessing=tfx.dsl.Channel(type=standard_artifacts.ModelBlessing),
                            candidate=candidate)


def LatestBlessedModelResolver(model_type: type = standard_artifacts.Model) -> tfx.dsl.Resolver:  # noqa: N802
    """The stock resolver of the latest blessed model, e.g. for the Trainer's `base_model` (warm start).

    It has no upstream node, so it can feed the Trainer without a cycle; but wired into the Trainer it changes
    the Trainer's inputs whenever a new model is blessed, so wire it only when warm start is on.
    """
    return tfx.dsl.Resolver(strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
                            model=tfx.dsl.Channel(type=model_type),
                            model_blessing=tfx.dsl.Channel(type=standard_artifacts.ModelBlessing))


def _id(artifact: types.Artifact) -> int:
    return artifact.id
