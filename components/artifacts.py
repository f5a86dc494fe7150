"""The artifact contract: every name one component writes and another reads, defined once.

A writer and its readers import the same constant, so renaming a file, a metric or a signature cannot leave a
reader quietly finding nothing. Standard library only: Beam workers, the report and the tests all import it.
"""

from __future__ import annotations

import os

# Examples artifact (ingestion -> training, validation, evaluation, edge export, report).
TRAIN_SPLIT = "train"
EVAL_SPLIT = "eval"
SPLITS = (TRAIN_SPLIT, EVAL_SPLIT)
SPLIT_PREFIX = "Split-"  # TFX's folder for one split of an artifact (artifact_utils.get_split_uri).
RECORD_PREFIX = "data_tfrecord"  # The file names TFX's own ExampleGen writes in a split's folder.
SUMMARY_FILE = "ingest_summary.json"  # Counts per split and class, rejections by reason, duplicates.
REJECTED_FILE = "rejected.jsonl"  # {"path", "reason", "detail"} per rejected photo, {"path", "reason"} per ignored.
DUPLICATES_FILE = "duplicates.jsonl"  # One {"content_key", "paths", "labels"} object per byte-identical group.
SUMMARY_PROPERTY = "ingest_summary"  # The summary's JSON, also kept on the artifact in ML Metadata.
# A line per record in record order, `[reuse key, stamp, path]` in JSON (components/ingestion/reuse.py):
# `<REUSE_INDEX_DIR>/Split-<split>/<record file>` plus REUSE_INDEX_SUFFIX. Outside the split folders, which
# readers glob whole (split_files).
REUSE_INDEX_DIR = "reuse_index"
REUSE_INDEX_SUFFIX = ".index.jsonl"

# tf.Example features of an ingested record.
IMAGE_FEATURE = "image"  # JPEG bytes, image_size x image_size.
CLASS_FEATURE = "class"  # int64 class index, in the order of data.classes.
LABEL_FEATURE = "label"  # The class name, as bytes.
SIZE_FEATURE = "size"  # [height, width].
SOURCE_FEATURE = "source"  # The photo's path (a non-UTF-8 byte kept as is).

# ModelRun artifact (Trainer -> report).
HISTORY_FILE = "training_history.json"  # {"epochs": [{metric: value}, ...], "wall_seconds": ..., other scalars}
EVAL_PREDICTIONS_FILE = "eval_predictions.json"  # {source: [class index, probability]}: the report's photo grid.
# The data review's files (components/training/data_review.py); absent when the history's "data_review" says
# "skipped: <why>" (a model not built in parts, or no feature cache). Probabilities are in data.classes order.
# One object a line, most doubtful first: {"path": source, "split": "train"|"eval", "given": class name,
# "suggested": class name, "probabilities": [held-out, calibrated], "score": probability of the given label}.
LABEL_ISSUES_FILE = "label_issues.jsonl"
# One object a line, most similar first: {"paths": [a, b], "splits": [split_a, split_b], "labels": [label_a,
# label_b], "similarity": cosine of the pooled features}.
NEAR_DUPLICATES_FILE = "near_duplicates.jsonl"
# {"temperature": T, "fitted_on": what T was fitted on (train photos only: OUT_OF_FOLD_LOGITS, or "N train photos
# held out of training" for a fine-tuned model), "bins": 15, "ece_before", "ece_after", "accuracy_before",
# "accuracy_after" (the final model's eval split), "reliability_before",
# "reliability_after": [[mean confidence, accuracy, count] per bin, [null, null, 0] when empty], "label_issues":
# count, "near_duplicates": {"within_train", "within_eval", "cross_split"}: counts, "threshold": {"cosine": c}}.
CALIBRATION_FILE = "calibration.json"
OUT_OF_FOLD_LOGITS = "the train split's out-of-fold logits"

# Serving SavedModel (Trainer -> Evaluator, pusher's serving check, `predict`, clients).
# In the SavedModel, from its (calibrated) eval probabilities: {"target_accuracy": t, "threshold": the lowest
# threshold whose answered photos reach t, null if none does, "coverage": share answered at it, "curve":
# [[threshold, coverage, accuracy or null], ...] for thresholds 0, 0.01, ..., 1, "per_class": {class: curve of
# the photos of that given label}}. Written for every model, calibrated or not.
CONFIDENCE_FILE = "assets.extra/confidence.json"
PHOTO_SIGNATURE = "serving_default"
EXAMPLES_SIGNATURE = "serving_examples"
CLASS_NAMES_SIGNATURE = "class_names"
PHOTO_INPUT = "image_bytes"  # Ends in `_bytes`: TF Serving's REST API then decodes {"b64": ...} values into it.
EXAMPLES_INPUT = "examples"
PROBABILITIES_OUTPUT = "probabilities"
CLASS_ID_OUTPUT = "class_id"
LABEL_OUTPUT = "label"
CLASS_NAMES_OUTPUT = "class_names"
OUTPUTS = (PROBABILITIES_OUTPUT, CLASS_ID_OUTPUT, LABEL_OUTPUT)  # Of the photo and examples signatures.

# Pushed version (pusher -> people, registries).
MODEL_CARD_FILE = "model_card.md"  # Beside the SavedModel: what the model is for, its data, figures and lineage.

# ModelEvaluation artifact (the EvalConfig's metric classes -> TFMA's metric and plot keys -> report).
ACCURACY_METRIC_CLASS = "SparseCategoricalAccuracy"  # The gated metric, keyed ACCURACY_METRIC in the results.
EXAMPLE_COUNT_METRIC_CLASS = "ExampleCount"
CONFUSION_MATRIX_PLOT_CLASS = "MultiClassConfusionMatrixPlot"
ACCURACY_METRIC = "sparse_categorical_accuracy"
EXAMPLE_COUNT_METRIC = "example_count"
CONFUSION_MATRIX_PLOT = "multi_class_confusion_matrix_plot"

# ML Metadata custom properties the report and the resolvers read.
BLESSED_PROPERTY = "blessed"  # ModelBlessing, set by the Evaluator: 1 when the gate passed.
CURRENT_MODEL_ID_PROPERTY = "current_model_id"  # ModelBlessing: the id of the Model it judged.
PUSHED_PROPERTY = "pushed"  # PushedModel, set by TFX's pusher base class: 1 when pushed.
PUSHED_DESTINATION_PROPERTY = "pushed_destination"
PUSHED_VERSION_PROPERTY = "pushed_version"
NOT_PUSHED_REASON_PROPERTY = "not_pushed_reason"  # PushedModel: why a blessed model was not pushed.
ALREADY_SERVED_PROPERTY = "already_served"  # PushedModel: 1 when the model was served already; nothing was copied.

# Files TFX components write in each split's folder, read by the validation stops.
STATISTICS_FILE = "FeatureStats.pb"  # StatisticsGen.
ANOMALIES_FILE = "SchemaDiff.pb"  # ExampleValidator.

# Drift baseline artifact (LabelDriftBaseline -> LabelDriftCheck of later runs).
LABEL_MIX_FILE = "label_mix.json"  # {"counts": {label: photos over every split}, "statistics_uri": ...}

# EdgeModel artifact (edge export -> pusher, report).
# Its ML Metadata type name, which the Vertex compiler writes as the schema title; TFX's container entry point
# imports a custom type by that title (`<module>.<Class>`), so it must name an importable class (components/__init__).
EDGE_MODEL_TYPE = "components.EdgeModel"
EDGE_MODEL_FORMER_TYPES = ("flowers.EdgeModel",)  # Its name before; ML Metadata stores made then still hold it.
EDGE_METRICS_FILE = "edge_metrics.json"
LABELS_FILE = "labels.txt"  # The class names, one a line, next to the TFLite models.


def record_file(index: int, count: int) -> str:
    """TFX's own naming for the index-th of count record files of a split."""
    return f"{record_file_prefix(index)}{count:05d}.gz"


def record_file_prefix(index: int) -> str:
    """What the name of the index-th record file of a split starts with, whatever the file count."""
    return f"{RECORD_PREFIX}-{index:05d}-of-"


def split_dir(uri: str, split_name: str) -> str:
    """The folder of one split of an artifact at `uri` (local or gs://), as TFX's artifact_utils names it."""
    return os.path.join(uri, f"{SPLIT_PREFIX}{split_name}")


def split_files(uri: str, split_name: str) -> list[str]:
    """The file pattern of one split, in the list form the Trainer's FnArgs and tf.data readers take."""
    return [os.path.join(split_dir(uri, split_name), "*")]


def split_name_of(split_folder: str) -> str:
    """The split's name from its folder's path (`.../Split-eval` -> `eval`)."""
    return os.path.basename(split_folder).removeprefix(SPLIT_PREFIX)
