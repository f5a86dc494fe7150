"""`make bench-label-issues`: how many deliberately mislabeled photos the Trainer's label-issue list finds.

The two shared photo folders (3,170 photos) are merged with symlinks, and a seeded 3 % of each class's photos
are filed under another class (chosen at random among the others). The pipeline's ingestion and Trainer run on
that folder with the configured settings; the label-issue list is scored against the moved photos: recall (the
share of moved photos listed) and the list's length over the number moved (goals: >= 0.80 and <= 3). Also
printed: what the data review costs against the whole Trainer, the temperature and the eval calibration error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sys

from benchmarks import SHARED_PHOTOS, SHARED_WEIGHTS
from benchmarks.realjob import SHARED_MORE_PHOTOS, merge_folders
from benchmarks.train import ingest, run_trainer
from components.artifacts import CALIBRATION_FILE, LABEL_ISSUES_FILE

MOVED_SHARE = 0.03


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import pipeline_config

    config = pipeline_config.load_config(pipeline_config.parse_assignments(args.set))
    training = config.training.with_model_option("mobilenet_v2", "weights", args.mobilenet_weights)
    out = os.path.abspath(args.out)
    photos = merge_folders(args.folders, os.path.join(out, "photos"))
    moved = move_photos(photos, MOVED_SHARE, args.seed)
    print(f"moved {len(moved)} of the photos under {photos} to a wrong class folder", flush=True)
    examples = ingest(photos, os.path.join(out, "examples"), dataclasses.replace(config.data, data_root=photos))
    history = run_trainer(training, config.data, examples, os.path.join(out, "model"))
    run_dir = os.path.join(out, "model", "run")
    with open(os.path.join(run_dir, LABEL_ISSUES_FILE)) as issues_file:
        listed = [json.loads(line) for line in issues_file]
    with open(os.path.join(run_dir, CALIBRATION_FILE)) as calibration_file:
        calibration = json.load(calibration_file)
    print_scores(moved, listed, photos)
    review, wall = history["data_review_seconds"], history["wall_seconds"]
    print(f"data review: {review:.1f} s of the Trainer's {wall:.1f} s ({review / (wall - review):.1%} added); "
          f"its NumPy head's eval accuracy {history['data_review_head_eval_accuracy']:.3f}, the Trainer's head "
          f"{history['epochs'][training.epochs - 1]['val_accuracy']:.3f}")
    print(f"temperature {calibration['temperature']:.3f}; eval ECE {calibration['ece_before']:.4f} -> "
          f"{calibration['ece_after']:.4f}; eval accuracy {calibration['accuracy_before']:.4f} -> "
          f"{calibration['accuracy_after']:.4f}; near-duplicate pairs {calibration['near_duplicates']}")
    return 0


def move_photos(root: str, share: float, seed: int) -> set[str]:
    """Move round(share x photos) of each class folder into another class's folder; their new `class/name`s."""
    rng = random.Random(seed)
    classes = sorted(name for name in os.listdir(root) if os.path.isdir(os.path.join(root, name)))
    chosen = {name: rng.sample(sorted(os.listdir(os.path.join(root, name))),
                               round(share * len(os.listdir(os.path.join(root, name))))) for name in classes}
    moved = set()
    for name, photos in chosen.items():
        for photo in photos:
            target = rng.choice([other for other in classes if other != name])
            shutil.move(os.path.join(root, name, photo), os.path.join(root, target, photo))
            moved.add(f"{target}/{photo}")
    return moved


def print_scores(moved: set[str], listed: list[dict], root: str) -> None:
    """Recall of the moved photos and the list's length against their number, overall and per split."""
    names = [os.path.relpath(issue["path"], root) for issue in listed]
    found = moved & set(names)
    print(f"\nlabel issues listed: {len(listed)}; moved photos: {len(moved)}; found: {len(found)}")
    print(f"recall {len(found) / len(moved):.3f} (goal >= 0.80); list / moved {len(listed) / len(moved):.2f} "
          "(goal <= 3)")
    for split in sorted({issue["split"] for issue in listed}):
        in_split = [name for name, issue in zip(names, listed) if issue["split"] == split]
        print(f"  {split}: {len(in_split)} listed, {len(moved & set(in_split))} of them moved")
    ranks = sorted(names.index(name) + 1 for name in found)
    if ranks:
        print(f"  ranks of the moved photos found: median {ranks[len(ranks) // 2]}, last {ranks[-1]}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.label_issues", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folders", nargs="+", default=[SHARED_PHOTOS, SHARED_MORE_PHOTOS],
                        help="class-folder trees to merge (default: the two shared folders)")
    parser.add_argument("--out", default="bench-out/label-issues", help="scratch folder (its contents are replaced)")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--mobilenet-weights", default=SHARED_WEIGHTS, help="backbone .h5 for mobilenet_v2")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="config override, e.g. training.fine_tune_epochs=0 (repeatable)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
