"""A tiny TFX pipeline through LocalDagRunner: photos -> ingestion -> StatisticsGen -> ImportSchemaGen ->
ExampleValidator -> AnomalyStop. Clean data passes; a schema the data breaks stops the run with AnomaliesFound,
raised unwrapped by LocalDagRunner (so the CLI can catch it as a UserError).
"""

import json
import os

import pytest
from tfx import v1 as tfx

import schemas
from components import artifacts
from components.ingestion import IngestSettings, make_example_gen, read_ingest_summary
from components.validation import AnomaliesFound, AnomalyStop

CLASSES = ["daisy", "roses"]
SIZE = 32


def ingestion_and_statistics(data_root):
    """The DAG's first two nodes on tiny photos: FileBasedExampleGen and StatisticsGen."""
    settings = IngestSettings(classes=tuple(CLASSES), image_size=SIZE, eval_fraction=0.3, records_per_shard=250,
                              max_shards=64, max_rejected_fraction=0.2, max_image_pixels=1_000_000,
                              max_file_bytes=2**20, jpeg_quality=95)
    example_gen = make_example_gen(data_root=str(data_root), settings=settings)
    return example_gen, tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])


def sqlite_metadata(root):
    return tfx.orchestration.metadata.sqlite_metadata_connection_config(os.path.join(root, "metadata.sqlite"))


def tiny_pipeline(root, data_root, schema_file):
    example_gen, statistics = ingestion_and_statistics(data_root)
    schema = tfx.components.ImportSchemaGen(schema_file=schema_file)
    validator = tfx.components.ExampleValidator(statistics=statistics.outputs["statistics"],
                                                schema=schema.outputs["schema"])
    stop = AnomalyStop(anomalies=validator.outputs["anomalies"])
    return tfx.dsl.Pipeline(
        pipeline_name="tiny", pipeline_root=str(root), enable_cache=True,
        components=[example_gen, statistics, schema, validator, stop],
        metadata_connection_config=sqlite_metadata(root))


def examples_uri(root):
    """The one Examples artifact folder the ingestion wrote."""
    [uri] = [os.path.join(d, n) for d, names, _ in os.walk(root) for n in names
             if d.endswith(os.path.join("FileBasedExampleGen", "examples"))]
    return uri


@pytest.mark.e2e  # Two LocalDagRunner runs.
def test_pipeline_passes_then_stops_on_anomalies(tmp_path, make_photo_folder):
    data = tmp_path / "photos"
    make_photo_folder(data, CLASSES, per_class=4)
    (data / "roses" / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    root = tmp_path / "pipeline"
    tfx.orchestration.LocalDagRunner().run(tiny_pipeline(root, data, schemas.schema_file(CLASSES, SIZE, str(root))))

    uri = examples_uri(root)
    summary = read_ingest_summary(uri)
    assert summary["seen"] == 9 and summary["rejected_by_reason"] == {"not an image": 1}
    assert sorted(os.listdir(uri)) == ["Split-eval", "Split-train", "duplicates.jsonl", "ingest_summary.json",
                                      "rejected.jsonl", "reuse_index"]  # reuse_index: for incremental runs.
    assert json.loads(open(os.path.join(uri, artifacts.REJECTED_FILE)).readline())["path"].endswith("broken.jpg")

    wrong_size = schemas.schema_file(CLASSES, SIZE * 2, str(root))  # Cached ingestion, new schema.
    with pytest.raises(AnomaliesFound, match=r"feature 'size': Out-of-range values"):
        tfx.orchestration.LocalDagRunner().run(tiny_pipeline(root, data, wrong_size))
