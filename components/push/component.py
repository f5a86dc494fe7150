"""AtomicPusher: the stock Pusher component with an executor that pushes through `push_atomically`.

It also takes an optional `edge_model` (EdgeModel from EdgeExport): its accepted TFLite files and labels go into
the version folder before the version is published, so a version never appears without them. So does the
version's `model_card.md`, rendered from the run's records that come in through the other optional inputs:
`examples`, `model_run` (the Trainer's) and `model_evaluation` (the Evaluator's).
"""

from __future__ import annotations

from typing import Any

from absl import logging
from tfx import types
from tfx import v1 as tfx
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter
from tfx.utils import io_utils, json_utils, proto_utils

from components.artifacts import ALREADY_SERVED_PROPERTY, NOT_PUSHED_REASON_PROPERTY
from components.edge import EdgeModel, layout
from components.push import card_facts
from components.push.atomic import push_atomically, served_version_of
from components.push.blessed import PIPELINE_ROOT_KEY, BlessedOnlyExecutor, CardPusherSpec
from components.push.card_facts import EDGE_MODEL_KEY
from components.push.serving_check import check_serving


class AtomicExecutor(BlessedOnlyExecutor):
    """Pushes a blessed model as the next integer version, atomically, once a fresh process has served it
    (`serving_check`); records the push like the stock Pusher, and the reason when the check refuses it."""

    def push_blessed(self, input_dict: dict[str, list[types.Artifact]], pushed_model: types.Artifact,
                     exec_properties: dict[str, Any]) -> None:
        model_path = self.GetModelPath(input_dict)
        refusal = check_serving(model_path)
        if refusal:
            logging.warning("Model %s not pushed: serving check failed: %s", model_path, refusal)
            self._MarkNotPushed(pushed_model)
            pushed_model.set_string_custom_property(NOT_PUSHED_REASON_PROPERTY, f"serving check failed: {refusal}")
            return
        base_directory = _filesystem_base_directory(exec_properties)
        version = served_version_of(model_path, base_directory)
        already_served = version is not None
        if already_served:
            destination = f"{base_directory.rstrip('/')}/{version}"
            logging.info("Model %s is already served as %s; not pushing it again.", model_path, destination)
        else:
            facts = card_facts.gather(input_dict, self.lineage(exec_properties))
            version, destination = push_atomically(model_path, base_directory, _version_files(input_dict, facts))
            logging.info("Model pushed to %s.", destination)
        io_utils.copy_dir(model_path, pushed_model.uri)  # The archived copy the stock Pusher keeps.
        self._MarkPushed(pushed_model, pushed_destination=destination, pushed_version=str(version))
        pushed_model.set_int_custom_property(ALREADY_SERVED_PROPERTY, int(already_served))


class AtomicPusherSpec(CardPusherSpec):
    INPUTS = {**CardPusherSpec.INPUTS, EDGE_MODEL_KEY: ChannelParameter(type=EdgeModel, optional=True)}


class AtomicPusher(tfx.components.Pusher):
    """`tfx.components.Pusher` (same outputs) whose filesystem push is atomic, numbered, and carries the edge files."""

    SPEC_CLASS = AtomicPusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(AtomicExecutor)

    def __init__(self, model: types.BaseChannel, model_blessing: types.BaseChannel,
                 push_destination: pusher_pb2.PushDestination, edge_model: types.BaseChannel | None = None,
                 examples: types.BaseChannel | None = None, model_run: types.BaseChannel | None = None,
                 model_evaluation: types.BaseChannel | None = None, pipeline_root: str = ""):
        spec = AtomicPusherSpec(model=model, model_blessing=model_blessing, push_destination=push_destination,
                                edge_model=edge_model, examples=examples, model_run=model_run,
                                model_evaluation=model_evaluation,
                                custom_config=json_utils.dumps({PIPELINE_ROOT_KEY: pipeline_root}),
                                pushed_model=types.Channel(type=standard_artifacts.PushedModel))
        base_component.BaseComponent.__init__(self, spec=spec)  # Pusher.__init__ would build a plain PusherSpec.


def _version_files(input_dict: dict[str, list[types.Artifact]], facts: card_facts.CardFacts):
    """The version-folder hook for push_atomically: the EdgeModel's accepted files, if one came in, and the card."""
    edge_models = input_dict.get(EDGE_MODEL_KEY) or []

    def add_files(version_dir: str) -> None:
        if edge_models:
            layout.add_to_version(edge_models[0].uri, version_dir)
        card_facts.write_card(version_dir, facts)
    return add_files


def _filesystem_base_directory(exec_properties: dict[str, Any]) -> str:
    destination = pusher_pb2.PushDestination()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
    if destination.WhichOneof("destination") != "filesystem":
        raise ValueError("AtomicPusher pushes to a filesystem destination only")
    return destination.filesystem.base_directory
