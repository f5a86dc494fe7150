"""`make_example_gen`: the FileBasedExampleGen that runs the photo ingestion executor."""

from __future__ import annotations

from google.protobuf import struct_pb2
from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2

from components import artifacts
from components.ingestion import split
from components.ingestion.driver import PhotoListingDriver
from components.ingestion.executor import Executor
from components.ingestion.settings import IngestSettings

INPUT_PATTERN = "*/*"  # Files, not folders: TFX's driver fingerprints what this matches (sizes, mtimes).


class PhotoExampleGen(FileBasedExampleGen):
    """FileBasedExampleGen whose cache key also covers the names of the photos (see `driver`)."""

    DRIVER_CLASS = PhotoListingDriver


def make_example_gen(*, data_root: str, settings: IngestSettings) -> FileBasedExampleGen:
    """FileBasedExampleGen over `<data_root>/<class>/<photo>` with `train`/`eval` GZIP TFRecord splits."""
    return PhotoExampleGen(
        input_base=data_root,
        input_config=example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="photos",
                                                                              pattern=INPUT_PATTERN)]),
        output_config=_output_config(settings.eval_fraction),
        custom_config=_custom_config(settings),
        custom_executor_spec=executor_spec.BeamExecutorSpec(Executor),
    ).with_id("FileBasedExampleGen")  # The stock id: the same progress lines, summaries and cache as before.


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
