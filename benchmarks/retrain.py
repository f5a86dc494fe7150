"""`make bench-retrain`: what warm start buys a scheduled retraining, measured on the same data in the same run.

Blesses a model on a folder (the gate is opened, `gate.min_accuracy=0`, so the baseline exists whatever its
accuracy), then adds new photos, taken in turn from each class of `--more` so the label mix stays the same, and
retrains twice from that one blessed state: from scratch, and warm-started from the blessed model
(`training.warm_start`). Each retraining runs in its own copy of the pipeline root, so both see the same baseline
and neither sees the other. Prints, for both: epochs, the epoch from which validation accuracy stays within a
point of its final value, Trainer wall time and the gate's eval accuracy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from benchmarks import SHARED_PHOTOS
from benchmarks.e2e import _timed_run, component_seconds
from components.ingestion.sources import IMAGE_EXTENSIONS
from components.training.models.mobilenet_v2 import BUNDLED_WEIGHTS
from pipeline_config import CODELAB_CLASSES, PROJECT_DIR, PipelineConfig

SHARED_MORE = str(PROJECT_DIR.parent / "shared" / "data" / "flower_photos_more")
PLATEAU = 0.01  # "Trained" = validation accuracy within a point of where the run ends.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", default=SHARED_PHOTOS, help="the folder the first model is blessed on")
    parser.add_argument("--more", default=SHARED_MORE, help="where the added photos come from")
    parser.add_argument("--add", type=int, default=600, help="photos added for the retraining")
    parser.add_argument("--work-dir", default=str(PROJECT_DIR / "bench-out" / "retrain"))
    parser.add_argument("--weights", default=str(BUNDLED_WEIGHTS))
    parser.add_argument("--set", action="append", default=[], help="extra config overrides for every run")
    args = parser.parse_args()

    shutil.rmtree(args.work_dir, ignore_errors=True)
    first_photos, retrain_photos = (os.path.join(args.work_dir, name) for name in ("photos", "photos_added"))
    link_photos(args.data_root, first_photos, limit=None)
    link_photos(args.data_root, retrain_photos, limit=None)
    added = link_photos(args.more, retrain_photos, limit=args.add)
    blessed_root = os.path.join(args.work_dir, "blessed")
    run_pipeline(args, first_photos, blessed_root, "gate.min_accuracy=0")
    results = {}
    for name, warm in (("from scratch", "false"), ("warm start", "true")):
        root = os.path.join(args.work_dir, name.replace(" ", "_"))
        shutil.copytree(blessed_root, root)  # Same ML Metadata: the same blessed baseline for both.
        seconds = run_pipeline(args, retrain_photos, root, f"training.warm_start={warm}")
        results[name] = measure(root, seconds)

    print("\n== bench-retrain ==")
    print(f"blessed on {args.data_root}; retrained on it + {added} photos of {args.more}; weights {args.weights}")
    print(f"{'':<14}{'epochs':>8}{'plateau':>9}{'Trainer s':>11}{'run s':>8}{'eval acc':>10}{'baseline':>10}")
    for name, r in results.items():
        print(f"{name:<14}{r['epochs']:>8}{r['plateau']:>9}{r['trainer_seconds']:>11.1f}{r['run_seconds']:>8.1f}"
              f"{r['accuracy']:>10.3f}{r['baseline']:>10.3f}")


def link_photos(source: str, target: str, limit: int | None) -> int:
    """Symlink photos of source/<class>/ into target/<class>/, taking one per class in turn up to `limit`."""
    per_class = {c: sorted(n for n in os.listdir(os.path.join(source, c))
                           if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS)
                 for c in CODELAB_CLASSES}
    order = [(c, names[i]) for i in range(max(map(len, per_class.values())))
             for c, names in per_class.items() if i < len(names)]
    chosen = order if limit is None else order[:limit]
    for label, name in chosen:
        os.makedirs(os.path.join(target, label), exist_ok=True)
        link = os.path.join(target, label, f"{os.path.basename(source)}_{name}")
        os.symlink(os.path.abspath(os.path.join(source, label, name)), link)
    return len(chosen)


def run_pipeline(args, photos: str, root: str, *settings: str) -> float:
    command = [sys.executable, "-m", "pipeline", "run", "--data-root", photos, "--pipeline-root", root,
               "--serving-dir", os.path.join(root, "serving"), "--weights", args.weights,
               *sum((["--set", s] for s in (*settings, *args.set)), [])]
    return _timed_run(command)  # A retraining the gate refuses still has its figures.


def measure(root: str, run_seconds: float) -> dict:
    from components.report import collect_run

    record = collect_run(os.path.join(root, "metadata.sqlite"), PipelineConfig().pipeline_name, root)
    curve = [e.get("val_accuracy", 0.0) for e in record.training.epochs]
    return {"epochs": len(curve), "plateau": plateau_epoch(curve), "run_seconds": run_seconds,
            "trainer_seconds": component_seconds(root).get("Trainer", 0.0),
            "accuracy": record.gate.accuracy or 0.0, "baseline": record.gate.baseline_accuracy or 0.0}


def plateau_epoch(curve: list[float]) -> int:
    """The first epoch (1-based) from which the curve stays within PLATEAU of its last value; 0 if empty."""
    if not curve:
        return 0
    for epoch in range(len(curve)):
        if all(abs(v - curve[-1]) <= PLATEAU for v in curve[epoch:]):
            return epoch + 1
    return len(curve)


if __name__ == "__main__":
    main()
