"""The executor's settings travel through the component's custom_config."""

import pytest
from google.protobuf import json_format
from tfx.proto import example_gen_pb2

from components.ingestion import make_example_gen
from components.ingestion.executor import Executor, settings_from_exec_properties
from components.errors import ConfigError
from components.ingestion.settings import IngestSettings

SETTINGS = IngestSettings(classes=("daisy", "roses"), image_size=24, eval_fraction=0.25, records_per_shard=100,
                          max_shards=8, max_rejected_fraction=0.1, max_image_pixels=1_000_000,
                          max_file_bytes=2**20, jpeg_quality=90)


def exec_properties(data_root):
    """What the launcher hands the executor (proto parameters as JSON text)."""
    return dict(make_example_gen(data_root=str(data_root), settings=SETTINGS).exec_properties)


def test_component_contract(photo_folder):
    component = make_example_gen(data_root=str(photo_folder), settings=SETTINGS)
    properties = component.exec_properties
    input_config = json_format.Parse(properties["input_config"], example_gen_pb2.Input())
    output_config = json_format.Parse(properties["output_config"], example_gen_pb2.Output())
    assert [s.pattern for s in input_config.splits] == ["*/*"]
    assert [s.name for s in output_config.split_config.splits] == ["train", "eval"]
    assert component.executor_spec.executor_class is Executor


def test_settings_round_trip_with_exact_types(photo_folder):
    settings = settings_from_exec_properties(exec_properties(photo_folder))
    assert settings == SETTINGS
    assert isinstance(settings.image_size, int) and isinstance(settings.max_image_pixels, int)


def test_settings_read_back_are_validated():
    """The executor checks what it receives as the config checked what it sent (a Struct carries floats)."""
    with pytest.raises(ConfigError, match="image_size: must be between 16 and 1024"):
        IngestSettings.from_dict({**SETTINGS.to_dict(), "image_size": 8.0})
