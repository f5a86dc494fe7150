"""The EvalConfig's contract with the Evaluator: names TFMA resolves, and a gate on the overall slice only."""

import tensorflow_model_analysis as tfma

from components.evaluation import make_eval_config

CLASSES = ["daisy", "dandelion", "roses"]


def _accuracy_config(config: tfma.EvalConfig) -> tfma.MetricConfig:
    return next(m for spec in config.metrics_specs for m in spec.metrics
                if m.class_name == "SparseCategoricalAccuracy")


def test_model_spec_reads_the_trainer_signature():
    (spec,) = make_eval_config(CLASSES, 0.8, 0.02).model_specs
    assert (spec.label_key, spec.signature_name, spec.prediction_key) == ("class", "serving_examples", "probabilities")


def test_gate_is_absolute_floor_and_bounded_drop_on_the_overall_slice_only():
    accuracy = _accuracy_config(make_eval_config(CLASSES, 0.8, 0.02))
    assert not accuracy.HasField("threshold")  # It would gate every per-label slice too (measured).
    (per_slice,) = accuracy.per_slice_thresholds
    assert list(per_slice.slicing_specs) == [tfma.SlicingSpec()]
    threshold = per_slice.threshold
    assert threshold.value_threshold.lower_bound.value == 0.8
    assert threshold.change_threshold.direction == tfma.MetricDirection.HIGHER_IS_BETTER
    assert abs(threshold.change_threshold.absolute.value + 0.02) < 1e-9


def test_per_class_metrics_binarize_every_class_id_and_slices_include_label():
    config = make_eval_config(CLASSES, 0.8, 0.02)
    binarized = [s for s in config.metrics_specs if s.HasField("binarize")]
    assert [list(s.binarize.class_ids.values) for s in binarized] == [[0, 1, 2]]
    assert {m.class_name for m in binarized[0].metrics} == {"Precision", "Recall"}
    assert "MultiClassConfusionMatrixPlot" in {m.class_name for s in config.metrics_specs for m in s.metrics}
    assert [list(s.feature_keys) for s in config.slicing_specs] == [[], ["label"]]


def test_thresholds_are_found_by_tfma_with_and_without_a_baseline():
    """What the Evaluator checks before it will bless anything: no thresholds means never blessed."""
    for has_baseline in (False, True):
        config = tfma.utils.update_eval_config_with_defaults(make_eval_config(CLASSES, 0.8, 0.02),
                                                             has_baseline=has_baseline, rubber_stamp=True)
        tfma.utils.verify_eval_config(config)
        assert tfma.metrics.metric_thresholds_from_metrics_specs(config.metrics_specs, eval_config=config)
