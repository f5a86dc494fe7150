"""The TFX executor: FileBasedExampleGen's contract around the shared ingestion graph (beam_job)."""

from __future__ import annotations

import json
from typing import Any

import apache_beam as beam
from google.protobuf import json_format, struct_pb2
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs

from components import artifacts
from components.ingestion import beam_job, sources


def settings_from_exec_properties(exec_properties: dict[str, Any]) -> beam_job.IngestSettings:
    """The IngestSettings packed (as a Struct) in the component's custom_config, JSON text or proto."""
    custom = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if isinstance(custom, str):
        custom = json_format.Parse(custom, example_gen_pb2.CustomConfig())
    struct = struct_pb2.Struct()
    custom.custom_config.Unpack(struct)
    return beam_job.IngestSettings.from_dict(json_format.MessageToDict(struct))


class Executor(BaseExampleGenExecutor):
    """Photos under input_base -> train and eval split TFRecords, the rejects manifest and the ingest summary.

    `Do` is overridden: the base class writes each split with its own shard count and has no place for the
    rejects manifest, the summary or the failure checks.
    """

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        """The base-class API: serialized Examples of every valid photo under input_base, both splits."""
        return _InputToExamples

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        settings = settings_from_exec_properties(exec_properties)
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        examples.split_names = artifact_utils.encode_split_names(list(artifacts.SPLITS))
        listing = beam_job.prepare(exec_properties[standard_component_specs.INPUT_BASE_KEY], settings)
        with self._make_beam_pipeline() as pipeline:
            beam_job.build_graph(pipeline, listing, settings, examples.uri)
        summary = beam_job.finish(examples.uri, settings)
        examples.set_string_custom_property(artifacts.SUMMARY_PROPERTY, json.dumps(summary, sort_keys=True))
        examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(examples, "tfrecords_gzip")


@beam.ptransform_fn
def _InputToExamples(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str):
    """The listing's shards as in Do, keeping only the records (rejections are counted in Do's path)."""
    del split_pattern  # The listing walks the whole root, so ignored paths are found too.
    settings = settings_from_exec_properties(exec_properties)
    listing = sources.list_photos(exec_properties[standard_component_specs.INPUT_BASE_KEY], settings.classes)
    return (beam_job.listed_shards(pipeline, listing, settings)
            | "ShardRecords" >> beam.ParDo(beam_job.ShardRecords(settings, beam_job.threads_per_core(listing))))
