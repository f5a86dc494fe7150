"""The drift nodes of the DAG under LocalDagRunner, a blessing imported in place of the Evaluator's: a blessed run
records its label mix, a refused one does not, and later runs compare with the latest record and stop on drift."""

import os

import pytest
from tfx import v1 as tfx
from tfx.types import standard_artifacts

from components.artifacts import BLESSED_PROPERTY
from components.report import collect_run
from components.validation import (DriftBaselineResolver, LabelDriftCheck, LabelDriftFound, LabelDriftStop,
                                   record_when_blessed)
from components.validation.drift_baseline import BASELINE_KEY
from tests.validation.test_validation_pipeline import CLASSES, ingestion_and_statistics, sqlite_metadata

PIPELINE = "tiny_drift"


def drift_pipeline(root, data_root, blessed: int, max_label_drift: float, recorded: bool):
    example_gen, statistics = ingestion_and_statistics(data_root)
    resolver = DriftBaselineResolver().with_id("drift_baseline_resolver")
    check = LabelDriftCheck(statistics=statistics.outputs["statistics"], max_label_drift=max_label_drift,
                            baseline=resolver.outputs[BASELINE_KEY])
    stop = LabelDriftStop(comparison=check.outputs["comparison"])
    blessing = tfx.dsl.Importer(source_uri=os.path.join(root, f"blessing_{blessed}"),
                                artifact_type=standard_artifacts.ModelBlessing,
                                custom_properties={BLESSED_PROPERTY: blessed}).with_id("blessing")
    record = record_when_blessed(statistics.outputs["statistics"], blessing.outputs["result"]) if recorded else None
    nodes = [example_gen, statistics, resolver, check, stop, blessing, record]
    return tfx.dsl.Pipeline(pipeline_name=PIPELINE, pipeline_root=str(root), enable_cache=True,
                            components=[node for node in nodes if node],
                            metadata_connection_config=sqlite_metadata(root))


def run(root, data_root, blessed: int, max_label_drift: float = 0.15, recorded: bool = True):
    tfx.orchestration.LocalDagRunner().run(drift_pipeline(root, data_root, blessed, max_label_drift, recorded))
    return collect_run(os.path.join(root, "metadata.sqlite"), PIPELINE, str(root))


def statistics_uris(root) -> list[str]:
    """StatisticsGen's outputs, oldest first (the folders are named by execution id)."""
    parent = os.path.join(root, "StatisticsGen", "statistics")
    return [os.path.join(parent, name) for name in sorted(os.listdir(parent), key=int)]


@pytest.mark.e2e  # Three LocalDagRunner runs.
def test_only_a_blessed_run_becomes_the_baseline_and_a_later_dump_stops(tmp_path, make_photo_folder, make_photo):
    photos, root = tmp_path / "photos", tmp_path / "pipeline"
    make_photo_folder(photos, CLASSES, per_class=4)
    first = run(root, photos, blessed=1)
    assert not first.drift.compared
    assert {c.state for c in first.components} == {"ran"}  # The resolver finds nothing without failing.
    assert "LabelDriftBaseline" in {c.node_id for c in first.components}

    for i in range(8):
        make_photo(photos / "roses" / f"more_{i}.jpg")
    accepted = run(root, photos, blessed=0, max_label_drift=1.0)
    assert accepted.drift.before == {"daisy": 4, "roses": 4} and accepted.drift.after == {"daisy": 4, "roses": 12}
    assert accepted.drift.baseline_uri == statistics_uris(root)[0]  # The blessed run's statistics.
    assert "LabelDriftBaseline" not in {c.node_id for c in accepted.components}  # Skipped: refused by the gate.
    assert {c.state for c in accepted.components} <= {"ran", "cached"}

    with pytest.raises(LabelDriftFound) as stopped:  # Still against the blessed run, not the refused one.
        run(root, photos, blessed=0)
    message = str(stopped.value)
    assert "label drift 0.250 is past validation.max_label_drift=0.15" in message
    assert "roses: 50.0% -> 75.0% (4 -> 12 photos)" in message
    assert f"Baseline statistics: {statistics_uris(root)[0]}" in message


@pytest.mark.e2e  # Three LocalDagRunner runs.
def test_a_root_from_before_the_record_compares_from_the_run_after_its_first(tmp_path, make_photo_folder):
    """A DAG without LabelDriftBaseline blessed first; the new DAG's first run finds no record but writes one
    from the blessing it reuses, and the run after it compares."""
    photos, root = tmp_path / "photos", tmp_path / "pipeline"
    make_photo_folder(photos, CLASSES, per_class=4)
    run(root, photos, blessed=1, recorded=False)
    upgraded = run(root, photos, blessed=1)
    assert not upgraded.drift.compared
    assert {c.node_id: c.state for c in upgraded.components}["LabelDriftBaseline"] == "ran"
    assert run(root, photos, blessed=1).drift.distance == 0.0
