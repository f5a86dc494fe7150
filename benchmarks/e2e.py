"""`make bench-e2e`: wall time of `flowers-pipeline run`, split into component work and orchestration overhead.

Runs the pipeline twice in fresh processes on the same data and a fresh pipeline root: the first run does all
the work, the second must be served from cache. Component work is read from ML Metadata (each execution's
create -> last update time, i.e. from the launcher handing it to the executor until its outputs are
published); everything else in the wall time (process start-up, imports, driver and cache look-ups, MLMD
writes between components) is orchestration overhead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

from benchmarks import SHARED_PHOTOS, SHARED_WEIGHTS
from pipeline_config import PROJECT_DIR, PipelineConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", default=SHARED_PHOTOS)
    parser.add_argument("--work-dir", default=str(PROJECT_DIR / "bench-out" / "e2e"))
    parser.add_argument("--weights", default=SHARED_WEIGHTS)
    parser.add_argument("--set", action="append", default=[], help="extra config overrides for both runs")
    args = parser.parse_args()

    shutil.rmtree(args.work_dir, ignore_errors=True)
    root, serving = os.path.join(args.work_dir, "pipeline"), os.path.join(args.work_dir, "serving")
    command = [sys.executable, "-m", "pipeline", "run", "--data-root", args.data_root, "--pipeline-root", root,
               "--serving-dir", serving, "--weights", args.weights, *sum((["--set", s] for s in args.set), [])]
    first = _timed_run(command)
    work = component_seconds(root)
    second = _timed_run(command)
    print("\n== bench-e2e ==")
    print(f"data: {args.data_root}; weights: {args.weights}")
    print(f"first run wall time: {first:.1f} s")
    for name, seconds in work.items():
        print(f"  {name:<24} {seconds:7.1f} s")
    inside = sum(work.values())
    overhead = first - inside
    print(f"  {'component work':<24} {inside:7.1f} s")
    print(f"  {'orchestration overhead':<24} {overhead:7.1f} s ({100 * overhead / first:.1f} % of the run)")
    print(f"cached rerun wall time: {second:.1f} s")
    print(f"serving dir versions: {sorted(os.listdir(serving)) if os.path.isdir(serving) else []}")


def _timed_run(command: list[str], allowed_statuses: tuple[int, ...] = (0, 3)) -> float:
    """Seconds the command took; a run the gate refused (exit status 3) is still a measured run."""
    start = time.monotonic()
    status = subprocess.run(command).returncode
    if status not in allowed_statuses:
        raise SystemExit(f"{' '.join(command[:4])} ... exited with status {status}")
    return time.monotonic() - start


def component_seconds(pipeline_root: str) -> dict[str, float]:
    """Seconds of each component's execution in the latest run, as the run report reads them from MLMD."""
    from components.report import collect_run

    record = collect_run(os.path.join(pipeline_root, "metadata.sqlite"), PipelineConfig().pipeline_name, pipeline_root)
    return {c.node_id: c.seconds or 0.0 for c in record.components}


if __name__ == "__main__":
    main()
