"""A pipeline root made before EdgeModel's type was renamed (`flowers.EdgeModel` -> `components.EdgeModel`).

ML Metadata keys artifact types by name: the old store keeps its `flowers.EdgeModel` type and artifacts, and
the new name is registered beside it when an EdgeExport next runs. Until then TFX's cache serves the old
artifact (the cache key does not change), the pusher takes it, and the report still reads it.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.artifacts import EDGE_MODEL_TYPE
from components.edge import EdgeModel
from tests.local_run.test_local_pipeline import CLASSES, record_of, run_cli, versions

pytestmark = pytest.mark.e2e
OLD_TYPE_NAME = "flowers.EdgeModel"
GATE = ("gate.min_accuracy=0.0", "gate.max_tflite_drop=1.0")


def edge_artifacts_by_type(root) -> dict[str, int]:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(root / "metadata.sqlite")
    store = metadata_store.MetadataStore(config)
    return {name: len(store.get_artifacts_by_type(name)) for name in (OLD_TYPE_NAME, EDGE_MODEL_TYPE)}


def test_a_root_made_with_the_old_edge_model_type_keeps_running_and_serving(tmp_path, make_photo_folder,
                                                                           monkeypatch):
    photos, root, serving = tmp_path / "photos", tmp_path / "root", tmp_path / "serving"
    make_photo_folder(photos, CLASSES, per_class=10)
    with monkeypatch.context() as before_the_rename:
        before_the_rename.setattr(EdgeModel, "TYPE_NAME", OLD_TYPE_NAME)
        before_the_rename.setattr(EdgeModel, "_MLMD_ARTIFACT_TYPE", None, raising=False)  # TFX caches the type.
        with contextlib.redirect_stdout(io.StringIO()):
            assert run_cli(root, serving, photos, *GATE) == 0
    assert edge_artifacts_by_type(root) == {OLD_TYPE_NAME: 1, EDGE_MODEL_TYPE: 0}
    assert versions(serving) == ["1"]

    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert run_cli(root, serving, photos, *GATE) == 0
    record = record_of(root)
    states = {c.node_id: c.state for c in record.components}
    assert set(states.values()) <= {"cached", "ran"} and states["EdgeExport"] == "cached"
    assert edge_artifacts_by_type(root) == {OLD_TYPE_NAME: 1, EDGE_MODEL_TYPE: 0}
    assert record.edge.accepted == ["float16", "int8"] and versions(serving) == ["1"]
    assert printed.getvalue().splitlines()[-1].startswith("Result: blessed (in service as ")
    assert "already in service" in printed.getvalue()
