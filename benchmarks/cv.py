"""`make bench-cv`: the Trainer's eval accuracy cross-validated over a whole folder, K folds.

The pipeline's gate sees one eval split. On a few hundred photos that figure moves by several points with the
split and with the run (the 109 eval photos of the 600 shared ones gave 0.73 to 0.80 over runs of the same
recipe), so this trains the pipeline's own recipe K times, each fold of photos the eval set once, and reports
the mean and spread: the figure to compare with K-fold figures such as those in the weights' PROVENANCE.txt.
Folds come from a hash of each record's image, so byte-identical photos share a fold, as they share a split.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys

from benchmarks import SHARED_PHOTOS, SHARED_WEIGHTS
from benchmarks.train import ingest, run_trainer, split_patterns


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import pipeline_config

    config = pipeline_config.load_config(pipeline_config.parse_assignments(args.set))
    training = dataclasses.replace(config.training, model=args.model,
                                   weights=args.mobilenet_weights if args.model == "mobilenet_v2" else "none")
    out = os.path.abspath(args.out)
    records = records_by_fold(ingest(args.data_root, os.path.join(out, "examples"), config.data), args.folds)
    accuracies = []
    for fold in range(args.folds):
        examples = write_fold(records, fold, os.path.join(out, f"fold-{fold}", "examples"))
        history = run_trainer(training, config.data, examples, os.path.join(out, f"fold-{fold}", "model"))
        accuracies.append(history["epochs"][-1]["val_accuracy"])
        print(f"fold {fold}: eval accuracy {accuracies[-1]:.3f} on {len(records[fold])} photos", flush=True)
    print(f"\n{args.model}, {args.folds}-fold on {sum(map(len, records.values()))} photos: eval accuracy "
          f"{statistics.mean(accuracies):.3f} (std {statistics.stdev(accuracies):.3f}; folds "
          f"{', '.join(f'{a:.3f}' for a in accuracies)})")
    return 0


def records_by_fold(examples: str, folds: int) -> dict[int, list[bytes]]:
    """Every serialized record of both splits, dealt into folds by a hash of its image."""
    import tensorflow as tf

    from components.ingestion import split

    files = [path for patterns in split_patterns(examples).values() for path in tf.io.gfile.glob(patterns[0])]
    by_fold = {fold: [] for fold in range(folds)}
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        image = tf.io.parse_single_example(record, {"image": tf.io.FixedLenFeature([], tf.string)})["image"]
        by_fold[split.bucket(split.content_key(image.numpy()), folds)].append(record.numpy())
    return by_fold


def write_fold(by_fold: dict[int, list[bytes]], fold: int, examples: str) -> str:
    """Split-eval = the fold's records, Split-train = every other fold's, as ingestion would write them."""
    from components.ingestion import tfrecord_files

    for name, chosen in (("eval", [fold]), ("train", [f for f in by_fold if f != fold])):
        os.makedirs(os.path.join(examples, f"Split-{name}"), exist_ok=True)
        with tfrecord_files.gzip_tfrecord_writer(os.path.join(examples, f"Split-{name}", "records.gz")) as write:
            for record in (r for f in chosen for r in by_fold[f]):
                write(record)
    return examples


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=SHARED_PHOTOS)
    parser.add_argument("--out", default="bench-out/cv", help="scratch folder (its contents are replaced)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--model", default="mobilenet_v2")
    parser.add_argument("--mobilenet-weights", default=SHARED_WEIGHTS, help="backbone .h5 for mobilenet_v2")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="config override, e.g. training.epochs=2 (repeatable)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
