"""The TFMA EvalConfig that is the pipeline's quality gate."""

from __future__ import annotations

import tensorflow_model_analysis as tfma

from components.artifacts import (ACCURACY_METRIC_CLASS, CLASS_FEATURE, CONFUSION_MATRIX_PLOT_CLASS, EXAMPLES_SIGNATURE,
                                  EXAMPLE_COUNT_METRIC_CLASS, LABEL_FEATURE, PROBABILITIES_OUTPUT)


def make_eval_config(classes: list[str], min_accuracy: float, max_accuracy_drop: float) -> tfma.EvalConfig:
    """Accuracy gate (absolute floor AND no worse than the baseline), per-class precision/recall, confusion matrix.

    The change threshold only applies when the Evaluator gets a baseline model; TFX ignores it otherwise, so
    the first run is gated by the absolute floor alone.
    """
    return tfma.EvalConfig(
        # model_type: without it TFMA loads each model with Keras to find out, and again for its default metrics.
        model_specs=[tfma.ModelSpec(label_key=CLASS_FEATURE, signature_name=EXAMPLES_SIGNATURE,
                                    prediction_key=PROBABILITIES_OUTPUT, model_type=tfma.TF_GENERIC)],
        metrics_specs=[_gate_spec(min_accuracy, max_accuracy_drop), _per_class_spec(len(classes))],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[LABEL_FEATURE])],
    )


def _gate_spec(min_accuracy: float, max_accuracy_drop: float) -> tfma.MetricsSpec:
    """The thresholds apply to the overall slice only: `MetricConfig.threshold` would gate every label slice too."""
    threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": min_accuracy}),
        change_threshold=tfma.GenericChangeThreshold(direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                                     absolute={"value": -max_accuracy_drop}),
    )
    return tfma.MetricsSpec(metrics=[
        tfma.MetricConfig(class_name=EXAMPLE_COUNT_METRIC_CLASS),
        tfma.MetricConfig(class_name=ACCURACY_METRIC_CLASS, per_slice_thresholds=[
            tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)]),
        tfma.MetricConfig(class_name=CONFUSION_MATRIX_PLOT_CLASS),
    ])


def _per_class_spec(n_classes: int) -> tfma.MetricsSpec:
    """One-vs-rest precision and recall per class id at probability 0.5 (keys carry `sub_key.class_id`).

    TFMA refuses top_k together with class_id, so argmax-based per-class figures come from the confusion matrix.
    """
    return tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name="Precision"), tfma.MetricConfig(class_name="Recall")],
        binarize=tfma.BinarizationOptions(class_ids={"values": list(range(n_classes))}),
    )
