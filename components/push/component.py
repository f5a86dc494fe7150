"""AtomicPusher: the stock Pusher component with an executor that pushes through `push_atomically`."""

from __future__ import annotations

from typing import Any

from absl import logging
from tfx import types
from tfx import v1 as tfx
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from components.push.atomic import push_atomically, served_version_of
from components.push.serving_check import check_serving

NOT_PUSHED_REASON = "not_pushed_reason"  # PushedModel custom property: why a blessed model was not pushed.


class AtomicExecutor(pusher_executor.Executor):
    """Pushes a blessed model as the next integer version, atomically, once a fresh process has served it
    (`serving_check`); records the push like the stock Pusher, and the reason when the check refuses it."""

    def Do(self, input_dict: dict[str, list[types.Artifact]], output_dict: dict[str, list[types.Artifact]],
           exec_properties: dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed_model = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed_model)
            return
        model_path = self.GetModelPath(input_dict)
        refusal = check_serving(model_path)
        if refusal:
            logging.warning("Model %s not pushed: serving check failed: %s", model_path, refusal)
            self._MarkNotPushed(pushed_model)
            pushed_model.set_string_custom_property(NOT_PUSHED_REASON, f"serving check failed: {refusal}")
            return
        base_directory = _filesystem_base_directory(exec_properties)
        version = served_version_of(model_path, base_directory)
        if version is not None:
            destination = f"{base_directory.rstrip('/')}/{version}"
            logging.info("Model %s is already served as %s; not pushing it again.", model_path, destination)
        else:
            version, destination = push_atomically(model_path, base_directory)
            logging.info("Model pushed to %s.", destination)
        io_utils.copy_dir(model_path, pushed_model.uri)  # The archived copy the stock Pusher keeps.
        self._MarkPushed(pushed_model, pushed_destination=destination, pushed_version=str(version))


class AtomicPusher(tfx.components.Pusher):
    """`tfx.components.Pusher` (same arguments and outputs) whose filesystem push is atomic and numbered."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(AtomicExecutor)


def _filesystem_base_directory(exec_properties: dict[str, Any]) -> str:
    destination = pusher_pb2.PushDestination()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
    if destination.WhichOneof("destination") != "filesystem":
        raise ValueError("AtomicPusher pushes to a filesystem destination only")
    return destination.filesystem.base_directory
