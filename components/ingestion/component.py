"""`make_example_gen`: the FileBasedExampleGen that runs the photo ingestion executor, and the resolver of the
earlier examples it can reuse images from."""

from __future__ import annotations

from google.protobuf import struct_pb2
from tfx import types
from tfx import v1 as tfx
from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter

from components import artifacts
from components.ingestion import split
from components.ingestion.driver import PhotoListingDriver
from components.ingestion.executor import PREVIOUS_EXAMPLES_KEY, Executor
from components.ingestion.settings import IngestSettings

INPUT_PATTERN = "*/*"  # Files, not folders: TFX's driver fingerprints what this matches (sizes, mtimes).
EXAMPLE_GEN_ID = "FileBasedExampleGen"  # The stock id: the same progress lines, summaries and cache as before.


class PhotoExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    INPUTS = {**standard_component_specs.FileBasedExampleGenSpec.INPUTS,
              PREVIOUS_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True)}


class PhotoExampleGen(FileBasedExampleGen):
    """FileBasedExampleGen whose cache key also covers the names of the photos (see `driver`), with an optional
    input of earlier examples whose images it reuses."""

    SPEC_CLASS = PhotoExampleGenSpec
    DRIVER_CLASS = PhotoListingDriver

    def __init__(self, *, input_base: str, input_config: example_gen_pb2.Input, output_config: example_gen_pb2.Output,
                 custom_config: example_gen_pb2.CustomConfig, previous_examples: types.BaseChannel | None = None):
        spec = PhotoExampleGenSpec(
            input_base=input_base, input_config=input_config, output_config=output_config,
            custom_config=custom_config, output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP, previous_examples=previous_examples,
            examples=types.Channel(type=standard_artifacts.Examples))
        # FileBasedExampleGen.__init__ would build a plain FileBasedExampleGenSpec.
        base_beam_component.BaseBeamComponent.__init__(
            self, spec=spec, custom_executor_spec=executor_spec.BeamExecutorSpec(Executor))


def make_example_gen(*, data_root: str, settings: IngestSettings,
                     previous_examples: types.BaseChannel | None = None) -> FileBasedExampleGen:
    """FileBasedExampleGen over `<data_root>/<class>/<photo>` with `train`/`eval` GZIP TFRecord splits."""
    return PhotoExampleGen(
        input_base=data_root,
        input_config=example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="photos",
                                                                              pattern=INPUT_PATTERN)]),
        output_config=_output_config(settings.eval_fraction),
        custom_config=_custom_config(settings),
        previous_examples=previous_examples,
    ).with_id(EXAMPLE_GEN_ID)


def PreviousExamplesResolver() -> tfx.dsl.Resolver:  # noqa: N802
    """A Resolver node whose `outputs['examples']` is the newest examples the ingestion wrote (empty on a first
    run). The stock strategy, which KubeflowV2DagRunner compiles for Vertex too."""
    return tfx.dsl.Resolver(strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
                            examples=types.Channel(type=standard_artifacts.Examples,
                                                   producer_component_id=EXAMPLE_GEN_ID,
                                                   output_key=standard_component_specs.EXAMPLES_KEY))


def _output_config(eval_fraction: float) -> example_gen_pb2.Output:
    """Declares the two splits (the executor's content-hash split follows the same proportions)."""
    eval_buckets = max(1, round(eval_fraction * split.BUCKETS))
    return example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name=artifacts.TRAIN_SPLIT, hash_buckets=split.BUCKETS - eval_buckets),
        example_gen_pb2.SplitConfig.Split(name=artifacts.EVAL_SPLIT, hash_buckets=eval_buckets),
    ]))


def _custom_config(settings: IngestSettings) -> example_gen_pb2.CustomConfig:
    struct = struct_pb2.Struct()
    struct.update(settings.to_dict())
    config = example_gen_pb2.CustomConfig()
    config.custom_config.Pack(struct)
    return config
