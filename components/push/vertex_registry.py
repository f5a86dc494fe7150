"""Vertex Model Registry push: every blessed model becomes a new version of ONE Model, with an alias on it.

TFX's Vertex Pusher uploads each model as a new, unrelated Model (no `parent_model`), so a year of weekly
retraining leaves 52 Models. Here the Model is found by display name (created by the first push) and each push
uploads a version of it with the `champion` alias: Vertex keeps an alias unique within a Model, so giving it to the
new version moves it (the SDK's `is_default_version` moves the `default` alias the same way). With an endpoint,
the new version is deployed with all the traffic and the versions deployed before it are undeployed, so one
replica serves instead of one per past push. The version carries the run's model card: `model_card.md` in the
folder it is uploaded from, and the card's summary as its description.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from absl import logging
from tfx import types
from tfx import v1 as tfx
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.utils import io_utils, json_utils

from components.push import card_facts, model_card
from components.push.blessed import PIPELINE_ROOT_KEY, BlessedOnlyExecutor, CardPusherSpec

CHAMPION_ALIAS = "champion"
REGISTRY_KEY = "flowers_vertex_registry"  # The Pusher custom_config key holding a RegistryTarget as a dict.


@dataclasses.dataclass(frozen=True)
class RegistryTarget:
    """Where and how a blessed model is registered (and served, when endpoint_display_name is set)."""

    project: str
    region: str
    model_display_name: str
    serving_image: str
    endpoint_display_name: str = ""
    machine_type: str = "n1-standard-2"
    min_replica_count: int = 1
    max_replica_count: int = 1
    alias: str = CHAMPION_ALIAS


@dataclasses.dataclass(frozen=True)
class PushedVersion:
    model: str  # projects/P/locations/R/models/ID
    version_id: str
    endpoint: str = ""  # Resource name of the endpoint it serves on; empty when not deployed.

    @property
    def versioned_name(self) -> str:
        return f"{self.model}@{self.version_id}"


def push_version(model_dir: str, target: RegistryTarget, credentials=None, description: str = "") -> PushedVersion:
    """Upload model_dir (gs://) as the next version of the target Model, alias it and deploy it if asked."""
    from google.cloud import aiplatform

    where = dict(project=target.project, location=target.region, credentials=credentials)
    parent = _find_one(aiplatform.Model, target.model_display_name, where)
    model = aiplatform.Model.upload(
        display_name=target.model_display_name, artifact_uri=model_dir,
        serving_container_image_uri=target.serving_image, parent_model=parent.resource_name if parent else None,
        is_default_version=True, version_aliases=[target.alias], description=description or None, sync=True,
        **where)
    logging.info("Uploaded %s as version %s of %s (alias %s)", model_dir, model.version_id, model.resource_name,
                 target.alias)
    if not target.endpoint_display_name:
        return PushedVersion(model.resource_name, model.version_id)
    endpoint = (_find_one(aiplatform.Endpoint, target.endpoint_display_name, where)
                or aiplatform.Endpoint.create(display_name=target.endpoint_display_name, sync=True, **where))
    earlier = [deployed.id for deployed in endpoint.list_models()]
    model.deploy(endpoint=endpoint, deployed_model_display_name=f"{target.model_display_name}-v{model.version_id}",
                 machine_type=target.machine_type, min_replica_count=target.min_replica_count,
                 max_replica_count=target.max_replica_count, traffic_percentage=100, sync=True)
    for deployed_model_id in earlier:  # They serve no traffic now; each would keep a replica running.
        endpoint.undeploy(deployed_model_id=deployed_model_id, sync=True)
    return PushedVersion(model.resource_name, model.version_id, endpoint.resource_name)


def _find_one(resource_class, display_name: str, where: dict[str, Any]):
    """The newest resource with this display name, or None."""
    found = resource_class.list(filter=f'display_name="{display_name}"', order_by="create_time desc", **where)
    return found[0] if found else None


class RegistryExecutor(BlessedOnlyExecutor):
    """Pushes a blessed model as a new version of one Vertex Model; records "not pushed" otherwise."""

    def push_blessed(self, input_dict: dict[str, list[types.Artifact]], pushed_model: types.Artifact,
                     exec_properties: dict[str, Any]) -> None:
        custom_config = json_utils.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "{}")
        target = RegistryTarget(**custom_config[REGISTRY_KEY])
        io_utils.copy_dir(self.GetModelPath(input_dict), pushed_model.uri)  # The copy the registry points at.
        facts = card_facts.gather(input_dict, self.lineage(exec_properties))
        card_facts.write_card(pushed_model.uri, facts)
        pushed = push_version(pushed_model.uri, target, description=model_card.summary(facts))
        self._MarkPushed(pushed_model, pushed_destination=pushed.versioned_name, pushed_version=pushed.version_id)
        pushed_model.set_string_custom_property("version_alias", target.alias)
        if pushed.endpoint:
            pushed_model.set_string_custom_property("endpoint", pushed.endpoint)


class RegistryPusher(tfx.components.Pusher):
    """`tfx.components.Pusher` whose executor registers versions of one Vertex Model (see push_version)."""

    SPEC_CLASS = CardPusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(RegistryExecutor)

    def __init__(self, model, model_blessing, custom_config: dict[str, Any], **card_inputs):
        spec = CardPusherSpec(model=model, model_blessing=model_blessing, custom_config=json_utils.dumps(custom_config),
                              pushed_model=types.Channel(type=standard_artifacts.PushedModel), **card_inputs)
        base_component.BaseComponent.__init__(self, spec=spec)  # Pusher.__init__ would build a plain PusherSpec.


def registry_pusher(model, model_blessing, target: RegistryTarget, pipeline_root: str = "",
                    **card_inputs) -> RegistryPusher:
    """`card_inputs`: the optional examples, model_run and model_evaluation channels the model card is read from."""
    return RegistryPusher(model=model, model_blessing=model_blessing, custom_config={
        REGISTRY_KEY: dataclasses.asdict(target), PIPELINE_ROOT_KEY: pipeline_root}, **card_inputs)
