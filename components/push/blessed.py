"""The stock Pusher's contract, shared by both push executors: an unblessed model is recorded as not pushed."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.types import artifact_utils, standard_component_specs


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

    def push_blessed(self, input_dict: dict[str, list[types.Artifact]], pushed_model: types.Artifact,
                     exec_properties: dict[str, Any]) -> None:
        raise NotImplementedError
