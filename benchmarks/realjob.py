"""`make bench-realjob`: the whole pipeline on a real photo folder against the bare Keras a user would write.

In one run:
1. `flowers-pipeline run` from an empty pipeline root, in its own process (wall time: the whole process);
2. the bare way, on the photos of the pipeline's own train and eval splits (read back from the records'
   `source`): tf.data over the files, fill-resize plus centre crop to the image size, cached, a frozen backbone,
   pooling, dropout and Dense, 10 epochs of Adam at batch 32, then evaluated on the eval split (wall time: data
   loading, training and evaluation);
3. a bare batched predict of the pushed model over the eval split's records (load, decode, predict), beside the
   Evaluator's time for the same photos.
The default folder is the two shared photo folders merged with symlinks: 3,170 of the codelab's 3,670 photos.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

from benchmarks import SHARED_PHOTOS, SHARED_WEIGHTS
from components.artifacts import EVAL_SPLIT, SPLITS, split_files
from pipeline_config import PROJECT_DIR, PipelineConfig

SHARED_MORE_PHOTOS = SHARED_PHOTOS + "_more"
BARE_EPOCHS, BARE_BATCH = 10, 32


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = os.path.abspath(args.work_dir)
    shutil.rmtree(os.path.join(work, "pipeline"), ignore_errors=True)
    shutil.rmtree(os.path.join(work, "serving"), ignore_errors=True)
    data_root = args.data_root or merge_folders([SHARED_PHOTOS, SHARED_MORE_PHOTOS], os.path.join(work, "photos"))
    root, serving = os.path.join(work, "pipeline"), os.path.join(work, "serving")
    command = [sys.executable, "-m", "pipeline", "run", "--data-root", data_root, "--pipeline-root", root,
               "--serving-dir", serving, "--weights", args.weights, *sum((["--set", s] for s in args.set), [])]
    started = time.monotonic()
    subprocess.run(command, check=True)
    pipeline_seconds = time.monotonic() - started

    from components.report import collect_run

    record = collect_run(os.path.join(root, "metadata.sqlite"), PipelineConfig().pipeline_name, root)
    bare = bare_keras(record.data.examples_uri, args.weights, PipelineConfig().data.image_size)
    print("\n== bench-realjob ==")
    print(f"data: {data_root}; weights: {args.weights}")
    print(f"{'':<34}{'wall s':>9}{'eval accuracy':>15}")
    print(f"{'pipeline (flowers-pipeline run)':<34}{pipeline_seconds:>9.1f}{record.gate.accuracy or 0:>15.3f}"
          f"   pushed: {record.push.version or 'no'}")
    print(f"{'bare Keras (load, train, evaluate)':<34}{bare['seconds']:>9.1f}{bare['accuracy']:>15.3f}")
    print(f"ratio pipeline / bare: {pipeline_seconds / bare['seconds']:.2f}; "
          f"photos: {bare['train']} train, {bare['eval']} eval")
    for component in record.components:
        print(f"  {component.node_id:<24} {component.seconds or 0:7.1f} s")
    if record.push.destination:
        _print_predict_against_evaluator(record, PipelineConfig().data.image_size)
    return 0


def _print_predict_against_evaluator(record, image_size: int) -> None:
    evaluator = next((c.seconds for c in record.components if c.node_id == "Evaluator"), None) or 0.0
    predict = bare_predict(record.push.destination, record.data.examples_uri, image_size)
    print(f"bare batched predict of the pushed model on the {predict['photos']} eval photos: "
          f"{predict['seconds']:.1f} s ({predict['load_seconds']:.1f} s of it loading the model); "
          f"Evaluator {evaluator:.1f} s = {evaluator / predict['seconds']:.2f}x")


def bare_predict(model_dir: str, examples_uri: str, image_size: int) -> dict:
    """Seconds to load a SavedModel with Keras and predict the eval records in batches of BARE_BATCH."""
    import tensorflow as tf

    from components.training import data

    started = time.monotonic()
    model = tf.keras.models.load_model(model_dir, compile=False)
    loaded = time.monotonic()
    images = data.eval_dataset(split_files(examples_uri, EVAL_SPLIT), image_size, BARE_BATCH).map(lambda x, _: x)
    probabilities = model.predict(images, verbose=0)
    return {"seconds": time.monotonic() - started, "load_seconds": loaded - started, "photos": len(probabilities)}


def merge_folders(folders: list[str], target: str) -> str:
    """One folder of class folders holding symlinks to every photo of `folders` (no name appears twice)."""
    shutil.rmtree(target, ignore_errors=True)
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            if not os.path.isdir(os.path.join(folder, name)):
                continue
            os.makedirs(os.path.join(target, name), exist_ok=True)
            for photo in os.listdir(os.path.join(folder, name)):
                os.symlink(os.path.join(folder, name, photo), os.path.join(target, name, photo))
    return target


def bare_keras(examples_uri: str, weights: str, image_size: int) -> dict:
    """The notebook way on the pipeline's splits: its accuracy and wall time from the first file read."""
    import tensorflow as tf

    from components.training import data

    split = {name: split_files(examples_uri, name)[0] for name in SPLITS}
    sources = {name: data.read_sources([pattern]) for name, pattern in split.items()}
    labels = {name: data.read_labels([pattern]) for name, pattern in split.items()}
    started = time.monotonic()

    def load(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        height, width = tf.cast(tf.shape(image)[0], tf.float32), tf.cast(tf.shape(image)[1], tf.float32)
        scale = image_size / tf.minimum(height, width)
        size = tf.cast(tf.math.ceil([height * scale, width * scale]), tf.int32)
        image = tf.image.resize_with_crop_or_pad(tf.image.resize(image, size), image_size, image_size)
        return image / 127.5 - 1.0, label

    def dataset(name, shuffle):
        files = tf.data.Dataset.from_tensor_slices((sources[name], labels[name]))
        loaded = files.map(load, num_parallel_calls=tf.data.AUTOTUNE).cache()
        loaded = loaded.shuffle(len(labels[name]), seed=0) if shuffle else loaded
        return loaded.batch(BARE_BATCH).prefetch(tf.data.AUTOTUNE)

    backbone = tf.keras.applications.MobileNetV2(input_shape=(image_size, image_size, 3), include_top=False,
                                                 weights=weights)
    backbone.trainable = False
    model = tf.keras.Sequential([backbone, tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dropout(0.2),
                                 tf.keras.layers.Dense(len(set(labels["train"])), activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(dataset("train", shuffle=True), epochs=BARE_EPOCHS, verbose=2)
    _, accuracy = model.evaluate(dataset("eval", shuffle=False), verbose=0)
    return {"seconds": time.monotonic() - started, "accuracy": accuracy, "train": len(labels["train"]),
            "eval": len(labels["eval"])}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.realjob", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default="", help="photo folder (default: the shared folders merged)")
    parser.add_argument("--work-dir", default=str(PROJECT_DIR / "bench-out" / "realjob"))
    parser.add_argument("--weights", default=SHARED_WEIGHTS)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="config override for the pipeline run (repeatable)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
