"""The stock Pusher's contract, shared by both push executors: an unblessed model is recorded as not pushed. Both
also take the optional inputs a model card is written from, and know the run they belong to."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter
from tfx.utils import json_utils

from components.push.card_facts import MODEL_EVALUATION_KEY, Lineage

PIPELINE_ROOT_KEY = "flowers_pipeline_root"  # custom_config: the root, for the card's lineage (any runner's layout).


class CardPusherSpec(standard_component_specs.PusherSpec):
    """The stock Pusher's spec with the run's records the model card is rendered from, each optional."""

    INPUTS = {**standard_component_specs.PusherSpec.INPUTS,
              standard_component_specs.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
              standard_component_specs.MODEL_RUN_KEY: ChannelParameter(type=standard_artifacts.ModelRun,
                                                                       optional=True),
              MODEL_EVALUATION_KEY: ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True)}


class BlessedOnlyExecutor(pusher_executor.Executor):
    """Records an unblessed model as not pushed; `push_blessed` pushes the others."""

    def Do(self, input_dict: dict[str, list[types.Artifact]], output_dict: dict[str, list[types.Artifact]],
           exec_properties: dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed_model = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed_model)
            return
        self.push_blessed(input_dict, pushed_model, exec_properties)

    def lineage(self, exec_properties: dict[str, Any]) -> Lineage:
        """The run and pipeline this push belongs to, for the model card (the root comes in `custom_config`)."""
        context = self._context
        custom_config = json_utils.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "{}")
        return Lineage(pipeline_name=context.pipeline_info.id if context and context.pipeline_info else "",
                       run_id=(context.pipeline_run_id if context else "") or "",
                       pipeline_root=custom_config.get(PIPELINE_ROOT_KEY, ""))

    def push_blessed(self, input_dict: dict[str, list[types.Artifact]], pushed_model: types.Artifact,
                     exec_properties: dict[str, Any]) -> None:
        raise NotImplementedError
