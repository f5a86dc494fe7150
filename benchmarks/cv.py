"""`make bench-cv`: the Trainer's eval accuracy cross-validated over a whole folder, K folds.

The pipeline's gate sees one eval split. On a few hundred photos that figure moves by several points with the
split and with the run (the 109 eval photos of the 600 shared ones gave 0.73 to 0.80 over runs of the same
recipe), so this trains the pipeline's own recipe K times, each fold of photos the eval set once, and reports
the mean and spread: the figure to compare with K-fold figures such as those in the weights' PROVENANCE.txt.
Folds come from a hash of each record's image, so byte-identical photos share a fold, as they share a split.
Every photo is predicted once by the fold model that did not see it, and the accuracy is also given for the
photos of the pipeline's own eval split and train split apart: whether that split is harder than the rest.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import statistics
import sys
import typing

from benchmarks import arguments
from benchmarks.train import ingest, run_trainer, split_patterns
from components.artifacts import (CLASS_FEATURE, CLASS_ID_OUTPUT, EVAL_SPLIT, EXAMPLES_INPUT, EXAMPLES_SIGNATURE,
                                  IMAGE_FEATURE, TRAIN_SPLIT, split_dir)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import pipeline_config

    config = pipeline_config.load_config(pipeline_config.parse_assignments(args.set))
    training = dataclasses.replace(config.training, model=args.model)
    training = training.with_model_option("mobilenet_v2", "weights", args.mobilenet_weights)
    out = os.path.abspath(args.out)
    records = records_by_fold(ingest(args.data_root, os.path.join(out, "examples"), config.data), args.folds)
    accuracies, correct = [], collections.Counter()
    for fold in range(args.folds):
        examples = write_fold(records, fold, os.path.join(out, f"fold-{fold}", "examples"))
        model_dir = os.path.join(out, f"fold-{fold}", "model")
        history = run_trainer(training, config.data, examples, model_dir)
        accuracies.append(history["epochs"][-1]["val_accuracy"])
        correct.update(correct_by_origin(os.path.join(model_dir, "serving"), records[fold]))
        print(f"fold {fold}: eval accuracy {accuracies[-1]:.3f} on {len(records[fold])} photos", flush=True)
    print(f"\n{args.model}, {args.folds}-fold on {sum(map(len, records.values()))} photos: eval accuracy "
          f"{statistics.mean(accuracies):.3f} (std {statistics.stdev(accuracies):.3f}; folds "
          f"{', '.join(f'{a:.3f}' for a in accuracies)})")
    for origin in ("eval", "train"):
        total = correct[origin, True] + correct[origin, False]
        print(f"  photos of the pipeline's {origin} split: {correct[origin, True] / total:.3f} of {total} "
              "predicted right by the fold model that did not train on them")
    return 0


class FoldRecord(typing.NamedTuple):
    record: bytes  # A serialized tf.Example, as ingestion wrote it.
    label: int
    origin: str  # The pipeline split ingestion put it in.


def records_by_fold(examples: str, folds: int) -> dict[int, list[FoldRecord]]:
    """Every record of both splits, dealt into folds by a hash of its image."""
    import tensorflow as tf

    from components.ingestion import split

    spec = {IMAGE_FEATURE: tf.io.FixedLenFeature([], tf.string), CLASS_FEATURE: tf.io.FixedLenFeature([], tf.int64)}
    by_fold = {fold: [] for fold in range(folds)}
    for origin, patterns in split_patterns(examples).items():
        for record in tf.data.TFRecordDataset(tf.io.gfile.glob(patterns[0]), compression_type="GZIP"):
            parsed = tf.io.parse_single_example(record, spec)
            fold = split.fold_for(parsed[IMAGE_FEATURE].numpy(), folds)
            by_fold[fold].append(FoldRecord(record.numpy(), int(parsed[CLASS_FEATURE]), origin))
    return by_fold


def write_fold(by_fold: dict[int, list[FoldRecord]], fold: int, examples: str) -> str:
    """The eval split = the fold's records, the train split = every other fold's, as ingestion would write them."""
    from components.ingestion import tfrecord_files

    for name, chosen in ((EVAL_SPLIT, [fold]), (TRAIN_SPLIT, [f for f in by_fold if f != fold])):
        os.makedirs(split_dir(examples, name), exist_ok=True)
        with tfrecord_files.gzip_tfrecord_writer(os.path.join(split_dir(examples, name), "records.gz")) as writer:
            for item in (item for f in chosen for item in by_fold[f]):
                writer.write(item.record)
    return examples


def correct_by_origin(serving_dir: str, held_out: list[FoldRecord]) -> collections.Counter:
    """(origin split, predicted right) -> photos, predicted by the exported model's serving signature."""
    import tensorflow as tf

    predict = tf.saved_model.load(serving_dir).signatures[EXAMPLES_SIGNATURE]
    class_ids = predict(**{EXAMPLES_INPUT: tf.constant([item.record for item in held_out])})[CLASS_ID_OUTPUT].numpy()
    return collections.Counter((item.origin, int(class_id) == item.label)
                               for item, class_id in zip(held_out, class_ids))


def _parser() -> argparse.ArgumentParser:
    parser = arguments.parser("python -m benchmarks.cv", __doc__, "bench-out/cv")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--model", default="mobilenet_v2")
    return parser


if __name__ == "__main__":
    sys.exit(main())
