"""Real tiny artifacts and a real LocalDagRunner pipeline around the gate: Importers stand in for ingestion and
the Trainer, then BaselineResolver -> Evaluator(make_eval_config) -> AtomicPusher (with the model card's inputs)
run for real on SQLite MLMD.

Models are real tf.keras SavedModels exported by the Trainer's exporter. Each one maps the true `class` through
a fixed table, so its eval accuracy is known exactly: classes listed in `wrong` are predicted as the next class.
Shared by tests/evaluation and tests/report (the `scenario` fixture of tests/conftest.py), run once per session:
`run_scenario` keeps its outcome in a JSON file next to the artifacts.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from components import artifacts  # noqa: E402
from components.ingestion import image  # noqa: E402

CLASSES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
PER_CLASS = 4  # 20 eval examples: each wrong class costs exactly 0.2 accuracy.
PHOTO_SIZE = 24
MIN_ACCURACY = 0.5
MAX_ACCURACY_DROP = 0.1
PIPELINE_NAME = "gate-test"
# (run name, candidate model, classes it gets wrong): the order is the scenario.
RUNS = [
    ("below_floor", "c", (0, 1, 2)),  # 0.4 < 0.5: not blessed, nothing pushed.
    ("first_blessed", "a", (0,)),  # 0.8, no blessed baseline yet: blessed, pushed as version 1.
    ("identical_rerun", "a", (0,)),  # Same artifacts: Evaluator and Pusher cached, no new version.
    ("worse_than_baseline", "b", (0, 1)),  # 0.6 >= 0.5 but 0.2 below baseline a: not blessed.
    ("better", "d", ()),  # 1.0 vs baseline a: blessed, pushed as version 2.
]
RECORDED = {"d"}  # Models whose Trainer also recorded data issues, calibration and a confidence threshold.
HISTORY = {"epochs": [{"epoch": 1, "loss": 1.2, "accuracy": 0.55, "val_loss": 1.0, "val_accuracy": 0.6},
                      {"epoch": 2, "loss": 0.7, "accuracy": 0.8, "val_loss": 0.8, "val_accuracy": 0.75}],
           "wall_seconds": 12.5, "model": "test"}
INGEST_SUMMARY = {"seen": 43, "written": {"train": {c: 4 for c in CLASSES}, "eval": {c: PER_CLASS for c in CLASSES}},
                  "rejected": 2, "rejected_by_reason": {image.NOT_AN_IMAGE: 1, image.EMPTY_FILE: 1}, "ignored": 1,
                  "duplicates": {"groups": 1, "extra_copies": 1, "groups_with_conflicting_labels": 1}}
REJECTED = [{"path": "roses/broken.jpg", "reason": image.NOT_AN_IMAGE, "detail": "Pillow cannot identify 9 bytes"},
            {"path": "tulips/empty.jpg", "reason": image.EMPTY_FILE, "detail": ""}]
DUPLICATES = [{"content_key": "5e1f", "paths": ["daisy/twin.jpg", "roses/twin.jpg"], "labels": ["daisy", "roses"]}]


def load_or_run_scenario(root: str) -> dict:
    """Run every step of RUNS under root (once: later calls read the recorded outcome)."""
    outcome_file = os.path.join(root, "outcome.json")
    if os.path.exists(outcome_file):
        with open(outcome_file) as f:
            return json.load(f)
    examples_dir = write_examples(os.path.join(root, "examples"))
    pipeline_root = os.path.join(root, "pipeline")
    outcome = {"root": root, "pipeline_root": pipeline_root, "serving_dir": os.path.join(root, "serving"),
               "metadata_path": os.path.join(pipeline_root, "metadata.sqlite"),  # Where the CLI's config looks.
               "runs": {}}
    for name, model, wrong in RUNS:
        model_dir = os.path.join(root, "models", model)
        if not os.path.exists(model_dir):
            export_model(model_dir, wrong, examples_dir, trainer_records=model in RECORDED)
        run_pipeline(outcome, examples_dir, model_dir)
        outcome["runs"][name] = snapshot(outcome)
    with open(outcome_file, "w") as f:
        json.dump(outcome, f)
    return outcome


def snapshot(outcome: dict) -> dict:
    """What a test asserts on after a run: the serving dir, and the latest run's MLMD record as plain data."""
    from components.report import collect_run

    record = collect_run(outcome["metadata_path"], PIPELINE_NAME, outcome["pipeline_root"])
    serving = outcome["serving_dir"]
    return {"serving": sorted(os.listdir(serving)) if os.path.exists(serving) else [],
            "components": {c.node_id: c.state for c in record.components},
            "blessed": record.gate.blessed, "accuracy": record.gate.accuracy,
            "baseline_accuracy": record.gate.baseline_accuracy, "reasons": record.gate.reasons,
            "pushed_to": record.push.destination}


def write_examples(examples_dir: str) -> str:
    """An Examples artifact folder: GZIP TFRecords per split in the ingestion format, summary and rejects."""
    import tensorflow as tf

    for split in artifacts.SPLITS:
        split_dir = artifacts.split_dir(examples_dir, split)
        os.makedirs(split_dir, exist_ok=True)
        path = os.path.join(split_dir, f"{artifacts.RECORD_PREFIX}-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for class_id, name in enumerate(CLASSES):
                for i in range(PER_CLASS):
                    writer.write(make_example(class_id, name, i))
    with open(os.path.join(examples_dir, artifacts.SUMMARY_FILE), "w") as f:
        json.dump(INGEST_SUMMARY, f)
    for name, rows in ((artifacts.REJECTED_FILE, REJECTED), (artifacts.DUPLICATES_FILE, DUPLICATES)):
        with open(os.path.join(examples_dir, name), "w") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    return examples_dir


def make_example(class_id: int, name: str, index: int) -> bytes:
    """One serialized record, built by ingestion's own record builder; the photo is a small solid-colour JPEG,
    one hue per class."""
    import numpy as np
    import tensorflow as tf

    from components.ingestion import records

    pixels = np.zeros((PHOTO_SIZE, PHOTO_SIZE, 3), np.uint8)
    pixels[..., class_id % 3] = 60 + 40 * class_id
    pixels[: 4 + index, :, :] = 255
    return records.photo_record(jpeg=tf.io.encode_jpeg(pixels).numpy(), class_id=class_id, label=name,
                                image_size=PHOTO_SIZE, source=f"{name}/{index}.jpg".encode())


def export_model(model_dir: str, wrong: tuple[int, ...], examples_dir: str, trainer_records: bool = False) -> str:
    """A Keras model exported by the Trainer's exporter (its signatures; warmup photos from the eval split of
    examples_dir), in Format-Serving, with the Trainer's run files (history and eval predictions; with
    `trainer_records`, also the data-issue, calibration and confidence files of tests/report/trainer_records.py).

    The class is read back from the photo (channel `class % 3` of its bottom row holds 60 + 40 * class, see
    make_example), one-hot encoded, then mapped through a fixed table: the photo signature, the tf.Example one
    and the pre-push serving check all agree, and the accuracy is known exactly.
    """
    import numpy as np
    import tensorflow as tf

    from components.training import export

    n = len(CLASSES)
    table = np.zeros((n, n), np.float32)
    for c in range(n):
        table[c, (c + 1) % n if c in wrong else c] = 8.0
    class ClassFromPixels(tf.keras.layers.Layer):
        def call(self, images):
            level = tf.reduce_max(images[:, -1], axis=[1, 2]) * 255
            return tf.one_hot(tf.cast(tf.round((level - 60) / 40), tf.int32), n)

    model = tf.keras.Sequential([tf.keras.Input((PHOTO_SIZE, PHOTO_SIZE, 3)), ClassFromPixels(),
                                 tf.keras.layers.Dense(n, use_bias=False, activation="softmax")])
    model.layers[-1].set_weights([table])
    export.export(model, CLASSES, PHOTO_SIZE, os.path.join(model_dir, "Format-Serving"),
                  warmup_records=artifacts.split_files(examples_dir, artifacts.EVAL_SPLIT))
    os.makedirs(os.path.join(model_dir, "run"), exist_ok=True)
    with open(os.path.join(model_dir, "run", artifacts.HISTORY_FILE), "w") as f:
        json.dump(HISTORY, f)
    from components.training import data, progress

    eval_files = artifacts.split_files(examples_dir, artifacts.EVAL_SPLIT)
    records = [r.numpy() for r in tf.data.TFRecordDataset(data.list_files(eval_files), compression_type="GZIP")]
    served = tf.saved_model.load(os.path.join(model_dir, "Format-Serving")).signatures[artifacts.EXAMPLES_SIGNATURE]
    answers = served(**{artifacts.EXAMPLES_INPUT: tf.constant(records)})
    progress.write_eval_predictions(os.path.join(model_dir, "run"), data.read_sources(eval_files),
                                    answers[artifacts.PROBABILITIES_OUTPUT].numpy())
    if trainer_records:
        from tests.report import trainer_records as records

        records.write_model_run(os.path.join(model_dir, "run"))
        records.write_confidence(os.path.join(model_dir, "Format-Serving"))
    return model_dir


def run_pipeline(outcome: dict, examples_dir: str, model_dir: str) -> None:
    from tfx import v1 as tfx

    from components.evaluation import BaselineResolver, make_eval_config
    from components.push import AtomicPusher

    examples = tfx.dsl.Importer(source_uri=examples_dir, artifact_type=tfx.types.standard_artifacts.Examples,
                                properties={"split_names": '["train", "eval"]'}).with_id("examples_importer")
    model = tfx.dsl.Importer(source_uri=model_dir,
                             artifact_type=tfx.types.standard_artifacts.Model).with_id("model_importer")
    model_run = tfx.dsl.Importer(source_uri=os.path.join(model_dir, "run"),
                                 artifact_type=tfx.types.standard_artifacts.ModelRun).with_id("model_run_importer")
    baseline = BaselineResolver(candidate=model.outputs["result"]).with_id("baseline_resolver")
    evaluator = tfx.components.Evaluator(
        examples=examples.outputs["result"], model=model.outputs["result"], baseline_model=baseline.outputs["model"],
        example_splits=[artifacts.EVAL_SPLIT], eval_config=make_eval_config(CLASSES, MIN_ACCURACY, MAX_ACCURACY_DROP))
    pusher = AtomicPusher(model=model.outputs["result"], model_blessing=evaluator.outputs["blessing"],
                          push_destination=tfx.proto.PushDestination(
                              filesystem=tfx.proto.PushDestination.Filesystem(base_directory=outcome["serving_dir"])),
                          examples=examples.outputs["result"], model_run=model_run.outputs["result"],
                          model_evaluation=evaluator.outputs["evaluation"], pipeline_root=outcome["pipeline_root"])
    dag = tfx.dsl.Pipeline(
        pipeline_name=PIPELINE_NAME, pipeline_root=outcome["pipeline_root"],
        components=[examples, model, model_run, baseline, evaluator, pusher], enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            outcome["metadata_path"]),
        beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    tfx.orchestration.LocalDagRunner().run(dag)
