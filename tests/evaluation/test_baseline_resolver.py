"""The baseline excludes the candidate; the stock resolver is offered for Vertex, which compiles only that."""

import json

import pytest
from tfx import v1 as tfx
from tfx.types import standard_artifacts

from components.evaluation import BaselineResolver
from components.evaluation.resolver import latest_blessed_other_than
from pipeline.vertex.runner import stock_baseline_resolver


def _artifact(cls, artifact_id: int, **custom):
    artifact = cls()
    artifact.id = artifact_id
    for name, value in custom.items():
        artifact.set_int_custom_property(name, value)
    return artifact


def _blessing(model_id: int, blessed: int, artifact_id: int):
    return _artifact(standard_artifacts.ModelBlessing, artifact_id, current_model_id=model_id, blessed=blessed)


def test_latest_blessed_model_other_than_the_candidate():
    models = [_artifact(standard_artifacts.Model, i) for i in (1, 2, 3)]
    blessings = [_blessing(1, 1, 10), _blessing(2, 0, 11), _blessing(3, 1, 12)]
    model, blessing = latest_blessed_other_than(models, blessings, excluded_ids={3})
    assert [m.id for m in model] == [1] and [b.id for b in blessing] == [10]
    assert [m.id for m in latest_blessed_other_than(models, blessings, excluded_ids={2})[0]] == [3]


def test_no_baseline_when_only_the_candidate_was_blessed():
    models = [_artifact(standard_artifacts.Model, 1)]
    assert latest_blessed_other_than(models, [_blessing(1, 1, 10)], excluded_ids={1}) == ([], [])


def _compile_for_vertex(tmp_path, make_baseline_resolver) -> dict:
    model = tfx.dsl.Importer(source_uri="gs://bucket/model",
                             artifact_type=standard_artifacts.Model).with_id("model_importer")
    baseline = make_baseline_resolver(candidate=model.outputs["result"]).with_id("baseline")
    dag = tfx.dsl.Pipeline(pipeline_name="vertex-check", pipeline_root="gs://bucket/root",
                           components=[model, baseline])
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image="gcr.io/p/image"),
        output_dir=str(tmp_path), output_filename="pipeline.json")
    runner.run(dag, write_out=True)
    return json.loads((tmp_path / "pipeline.json").read_text())


def test_vertex_variant_compiles_with_kubeflow_v2(tmp_path):
    tasks = _compile_for_vertex(tmp_path, stock_baseline_resolver)["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {"baseline-model-blessing-resolver", "baseline-model-resolver"} <= set(tasks)


def test_candidate_aware_variant_is_rejected_by_kubeflow_v2(tmp_path):
    """Documents why the Vertex runner swaps in the stock resolver: KubeflowV2 only compiles the stock strategies."""
    with pytest.raises(TypeError, match="resolver policy"):
        _compile_for_vertex(tmp_path, BaselineResolver)
