"""The TFX executor: FileBasedExampleGen's contract around the shared ingestion graph (beam_job)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format, struct_pb2
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs

from components import artifacts
from components.ingestion import beam_job, checks
from components.ingestion.settings import IngestSettings

PREVIOUS_EXAMPLES_KEY = "previous_examples"  # The optional input: an earlier run's examples, to reuse images from.


def settings_from_exec_properties(exec_properties: dict[str, Any]) -> IngestSettings:
    """The IngestSettings packed (as a Struct) in the component's custom_config, JSON text or proto."""
    custom = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if isinstance(custom, str):
        custom = json_format.Parse(custom, example_gen_pb2.CustomConfig())
    struct = struct_pb2.Struct()
    custom.custom_config.Unpack(struct)
    return IngestSettings.from_dict(json_format.MessageToDict(struct))


class Executor(base_beam_executor.BaseBeamExecutor):
    """Photos under input_base -> train and eval split TFRecords, the rejects manifest and the ingest summary.

    Not a BaseExampleGenExecutor: that base class writes each split with its own shard count and has no place
    for the rejects manifest, the summary or the failure checks. Given previous_examples, it reuses their images
    (see `reuse`), only reading them.
    """

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        settings = settings_from_exec_properties(exec_properties)
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        examples.split_names = artifact_utils.encode_split_names(list(artifacts.SPLITS))
        listing = checks.list_checked_photos(exec_properties[standard_component_specs.INPUT_BASE_KEY], settings)
        previous = input_dict.get(PREVIOUS_EXAMPLES_KEY) or []
        with self._make_beam_pipeline() as pipeline:
            beam_job.build_graph(pipeline, listing, settings, examples.uri, previous[0].uri if previous else None)
        summary = checks.read_checked_summary(examples.uri, settings)
        examples.set_string_custom_property(artifacts.SUMMARY_PROPERTY, json.dumps(summary, sort_keys=True))
        examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(examples, "tfrecords_gzip")
