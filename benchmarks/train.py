"""`make bench-train`: the Trainer against bare Keras, per model, on photos ingested by the pipeline's own job.

For each model (same data, same run):
- input pipeline: images/s of the training tf.data pipeline alone (read, parse, decode, augment, batch);
- Trainer: `run_fn` for the configured epochs; training images/s (training steps only, validation excluded)
  and the eval accuracy after the last epoch;
- bare Keras: the same model and compile settings, `model.fit` on the decoded training images held in memory
  (no input pipeline at all), for as many epochs, timed the same way.
Speeds are the best epoch after the first (which pays for tracing): other jobs on a shared machine only ever
add time, so the fastest epoch is the cleanest view of each; ratio = Trainer / bare. The mean of the steady
epochs is reported too.
mobilenet_v2 uses the rebuilt ImageNet backbone given by --mobilenet-weights (alpha follows the file).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time

from benchmarks import arguments  # Through pipeline_config, which sets TF_USE_LEGACY_KERAS.
from components.artifacts import HISTORY_FILE, SPLITS, split_files


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import pipeline_config

    config = pipeline_config.load_config(pipeline_config.parse_assignments(args.set))
    out = os.path.abspath(args.out)
    examples = ingest(args.data_root, os.path.join(out, "examples"), config.data)
    results = []
    for name in args.models:
        training = dataclasses.replace(config.training, model=name, accelerator="cpu" if args.cpu else "auto")
        training = training.with_model_option("mobilenet_v2", "weights", args.mobilenet_weights)
        results.append(bench_model(training, config.data, examples, os.path.join(out, name), args.bare_epochs))
        print(json.dumps(results[-1]), flush=True)
    _print_table(results)
    with open(os.path.join(out, "results.json"), "w") as results_file:
        json.dump(results, results_file, indent=1)
    return 0


def ingest(data_root: str, output_dir: str, data) -> str:
    """The pipeline's ingestion job, from scratch, with the configured data settings."""
    from components.ingestion import IngestSettings, run_ingest

    shutil.rmtree(output_dir, ignore_errors=True)
    started = time.perf_counter()
    summary = run_ingest(data_root=data_root, output_dir=output_dir,
                         settings=IngestSettings.from_dict(data.to_dict()))
    written = {split: sum(counts.values()) for split, counts in summary["written"].items()}
    print(f"ingested {written} in {time.perf_counter() - started:.1f} s", flush=True)
    return output_dir


def run_trainer(training, data, examples: str, out: str) -> dict:
    """The pipeline's run_fn on the train and eval split records under `examples`; its training history."""
    from tfx.components.trainer.fn_args_utils import FnArgs

    from components.training import trainer_custom_config
    from components.training.trainer import run_fn

    shutil.rmtree(out, ignore_errors=True)
    args = FnArgs(train_files=split_patterns(examples)["train"], eval_files=split_patterns(examples)["eval"],
                  serving_model_dir=os.path.join(out, "serving"), model_run_dir=os.path.join(out, "run"),
                  custom_config=trainer_custom_config(dataclasses.asdict(training), list(data.classes),
                                                      data.image_size))
    run_fn(args)
    with open(os.path.join(args.model_run_dir, HISTORY_FILE)) as history_file:
        return json.load(history_file)


def split_patterns(examples: str) -> dict[str, list[str]]:
    return {split: split_files(examples, split) for split in SPLITS}


def bench_model(training, data, examples: str, out: str, bare_epochs: int) -> dict:
    from components.training.progress import steady_images_per_second

    history = run_trainer(training, data, examples, out)
    patterns = split_patterns(examples)
    bare = bare_keras_epochs(patterns["train"], training, data, history, bare_epochs or len(history["epochs"]))
    trainer_best, bare_best = _best(history["epochs"]), _best(bare)
    input_rate = input_images_per_second(patterns["train"], training, data.image_size)  # last: its threads linger
    last = history["epochs"][-1]
    return {"model": training.model, "epochs": len(history["epochs"]), "global_batch": history["global_batch_size"],
            "input_images_per_second": input_rate, "trainer_images_per_second": trainer_best,
            "bare_keras_images_per_second": bare_best, "ratio": trainer_best / bare_best,
            "trainer_mean_images_per_second": history["train_images_per_second"],
            "bare_keras_mean_images_per_second": steady_images_per_second(bare), "eval_accuracy": last["val_accuracy"],
            "train_accuracy": last["accuracy"], "trainer_wall_seconds": history["wall_seconds"]}


def input_images_per_second(patterns: list[str], training, image_size: int, batches: int = 60) -> float:
    """The training input pipeline as run_fn builds it, alone, after an epoch of warm-up."""
    from components.training import data

    records = data.count_records(patterns)
    dataset = data.train_dataset(patterns, image_size, training.batch_size, training.shuffle_buffer, training.seed,
                                 cache=data.cache_fits(records, image_size, training.feature_cache_max_bytes))
    iterator = iter(dataset)
    for _ in range(records // training.batch_size + 5):  # fills the cache, if any, as the first epoch does
        next(iterator)
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * training.batch_size / (time.perf_counter() - started)


def bare_keras_epochs(patterns: list[str], training, data_config, history: dict, epochs: int) -> list[dict]:
    """The same model, optimizer and batch with no pipeline: decoded images in memory, `model.fit(x, y)`."""
    import numpy as np
    import tensorflow as tf

    from components.training import data, models, progress, schedule, strategy

    images, labels = map(np.concatenate, zip(*[(x.numpy(), y.numpy()) for x, y in
                                               data.eval_dataset(patterns, data_config.image_size, 256)]))
    placement = strategy.resolve(training.accelerator, training.tpu, training.steps_per_execution)
    batch, steps = history["global_batch_size"], history["steps_per_epoch"]
    tf.keras.utils.set_random_seed(training.seed)
    with strategy.precision(placement.precision), placement.strategy.scope():
        model = models.build(training.model, models.ModelSpec(data_config.image_size, len(data_config.classes)),
                             training.options())
        rate = schedule.WarmupDecay(schedule.scaled(training.learning_rate, batch), steps, training.warmup_epochs,
                                    training.lr_decay)
        model.compile(optimizer=tf.keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=placement.jit_compile)
    timer = progress.EpochProgress(steps * batch, epochs)
    model.fit(images[:steps * batch], labels[:steps * batch], batch_size=batch, epochs=epochs, callbacks=[timer],
              verbose=0)
    return timer.epochs


def _best(epochs: list[dict]) -> float:
    return max(e["images_per_second"] for e in (epochs[1:] or epochs))


def _print_table(results: list[dict]) -> None:
    print(f"\n{'model':<14}{'epochs':>7}{'input img/s':>13}{'trainer img/s':>15}{'bare img/s':>12}{'ratio':>7}"
          f"{'eval acc':>10}")
    for r in results:
        print(f"{r['model']:<14}{r['epochs']:>7}{r['input_images_per_second']:>13.1f}"
              f"{r['trainer_images_per_second']:>15.1f}{r['bare_keras_images_per_second']:>12.1f}{r['ratio']:>7.3f}"
              f"{r['eval_accuracy']:>10.3f}")


def _parser() -> argparse.ArgumentParser:
    parser = arguments.parser("python -m benchmarks.train", __doc__, "bench-out/train")
    parser.add_argument("--models", nargs="+", default=["mobilenet_v2", "squeezenet"])
    parser.add_argument("--bare-epochs", type=int, default=0, help="epochs of the bare Keras run; 0 = as many as "
                                                                    "the Trainer's")
    parser.add_argument("--cpu", action="store_true", help="force the CPU strategy (default: training.accelerator "
                                                           "auto)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
