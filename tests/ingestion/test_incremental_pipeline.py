"""Incremental ingestion under LocalDagRunner (SQLite ML Metadata): the stock latest-artifact resolver hands the
ExampleGen the examples it wrote last, whose images the next run reuses."""

import json

import pytest
from tfx import v1 as tfx

from components import artifacts
from components.ingestion import PreviousExamplesResolver, make_example_gen
from tests.ingestion.test_executor import SETTINGS

pytestmark = pytest.mark.e2e  # LocalDagRunner pipelines.


def run_ingestion(root, pipeline_root) -> dict:
    """One run of a resolver + ExampleGen pipeline; the summary of the examples the ExampleGen gave."""
    previous = PreviousExamplesResolver().with_id("previous_examples_resolver")
    example_gen = make_example_gen(data_root=str(root), settings=SETTINGS,
                                   previous_examples=previous.outputs["examples"])
    tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
        pipeline_name="incremental", pipeline_root=str(pipeline_root), components=[previous, example_gen],
        enable_cache=True, metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(pipeline_root / "metadata.sqlite")),
        beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"]))
    newest = max((pipeline_root / "FileBasedExampleGen" / "examples").iterdir(), key=lambda path: int(path.name))
    return json.loads((newest / artifacts.SUMMARY_FILE).read_text())


def test_a_rerun_reuses_the_images_of_the_examples_written_last(tmp_path, make_photo_folder, make_photo):
    root = tmp_path / "photos"
    make_photo_folder(root, SETTINGS.classes, per_class=4)
    assert run_ingestion(root, tmp_path / "root")["reused"] == 0
    make_photo(root / "roses" / "new.jpg")
    summary = run_ingestion(root, tmp_path / "root")
    assert summary["reused"] == 8 and summary["seen"] == 9
    # TFX keys the cache on every input, and the earlier examples are one: an unchanged folder ingests again
    # (every image reused), which is why data.incremental is off by default.
    assert run_ingestion(root, tmp_path / "root")["reused"] == 9
