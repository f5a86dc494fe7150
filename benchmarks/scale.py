"""`make bench-scale`: what each component costs per photo, and the memory the run takes, at N and at 10 N photos.

For each size (default 3,170 and 31,700; `make bench-scale SCALE_N=300,3000` to try it small):
1. a folder of that many distinct photos made from the shared ones (`scale_photos.py`; cached under --out);
2. `flowers-pipeline run` on it in a fresh process, from an empty pipeline root, with default settings.
Per component it reports the seconds per photo (from ML Metadata, as `make bench-e2e` reads them) and memory:
the process tree's resident memory (sum of RSS over the pipeline process and its children) is sampled every
0.2 s, and each sample is charged to the component the run's progress lines say is running, giving its peak and
its rise (peak minus the memory when it started; the Trainer runs inside the pipeline process, so its rise is
what it added). For the whole run: the sampled peak, and the pipeline process's own maximum RSS as the kernel
counted it (ru_maxrss from wait4, which no sampling interval can miss). The sizes are printed side by side, with
each figure's ratio to the first size's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from benchmarks import SHARED_PHOTOS, arguments, scale_photos
from benchmarks.e2e import component_seconds
from benchmarks.realjob import SHARED_MORE_PHOTOS

SAMPLE_SECONDS = 0.2
MIB = 2**20
_STARTED = re.compile(r"^  (\S+)\s+started$")
_ENDED = re.compile(r"^  (\S+)\s+(done in|cached in|FAILED after) ")


@dataclasses.dataclass
class Measured:
    photos: int
    wall_seconds: float
    status: int
    seconds: dict[str, float]  # Component -> seconds of its execution (ML Metadata).
    peak_bytes: dict[str, int]  # Component -> sampled peak of the process tree while it ran.
    rise_bytes: dict[str, int]  # Component -> that peak minus the tree's memory when it started.
    tree_peak_bytes: int  # Whole run, sampled.
    process_max_rss_bytes: int  # Whole run, the pipeline process's ru_maxrss.


class TreeMemory:
    """Samples the resident memory of a process and its descendants on a thread, per running component."""

    def __init__(self, pid: int):
        self._process, self._running = psutil.Process(pid), True
        self.component, self.peak, self.start, self.whole = "", {}, {}, 0
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self._thread.start()

    def progress(self, line: str) -> None:
        """Follow the run's `<component> started` / `done in` lines."""
        started, ended = _STARTED.match(line), _ENDED.match(line)
        if started:
            self.component = started.group(1)
            self.start[self.component] = self.peak[self.component] = self.sample()
        elif ended and ended.group(1) == self.component:
            self.component = ""

    def sample(self) -> int:
        total = 0
        try:
            for process in [self._process, *self._process.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:  # A child that has just exited.
                    continue
        except psutil.Error:  # The pipeline process itself has exited.
            return 0
        self.whole = max(self.whole, total)
        if self.component:
            self.peak[self.component] = max(self.peak.get(self.component, 0), total)
        return total

    def stop(self) -> None:
        self._running = False
        self._thread.join()

    def _sample_until_stopped(self) -> None:
        while self._running:
            self.sample()
            time.sleep(SAMPLE_SECONDS)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out).resolve()
    sizes = [int(size) for size in args.sizes.split(",")]
    results = []
    for count in sizes:
        photos = scale_photos.build(args.sources, count, out / f"photos-{count}")
        results.append(measure(photos, count, out / f"run-{count}", args.mobilenet_weights, args.set))
        print(json.dumps(dataclasses.asdict(results[-1])), flush=True)
    (out / "results.json").write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=1))
    print_table(results, args.mobilenet_weights)
    return 0


def measure(photos: Path, count: int, work: Path, weights: str, settings: list[str]) -> Measured:
    """One `flowers-pipeline run` on `photos`, from an empty root, watched."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    root = work / "pipeline"
    command = [sys.executable, "-m", "pipeline", "run", "--data-root", str(photos), "--pipeline-root", str(root),
               "--serving-dir", str(work / "serving"), "--weights", weights, *sum((["--set", s] for s in settings), [])]
    started = time.monotonic()
    with open(work / "stderr.log", "w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    memory = TreeMemory(process.pid)
    for line in process.stdout:
        print(line, end="", flush=True)
        memory.progress(line.rstrip("\n"))
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    memory.stop()
    if process.returncode not in (0, 3):  # A model the gate refused (3) is still a measured run.
        raise SystemExit(f"flowers-pipeline run exited with status {process.returncode}; see {work / 'stderr.log'}")
    peaks = memory.peak
    return Measured(count, time.monotonic() - started, process.returncode, component_seconds(str(root)), peaks,
                    {name: peaks[name] - memory.start[name] for name in peaks}, memory.whole, usage.ru_maxrss * 1024)


def print_table(results: list[Measured], weights: str) -> None:
    first = results[0]
    print(f"\n== bench-scale ==\nweights: {weights}; photos: {', '.join(str(r.photos) for r in results)}")
    header = "".join(f"{f'ms/photo @{r.photos}':>17}{f'peak MiB @{r.photos}':>17}{f'rise MiB @{r.photos}':>17}"
                     for r in results)
    ratios = "".join(f"{f'x ms @{r.photos}':>14}{f'x peak @{r.photos}':>15}" for r in results[1:])
    print(f"{'component':<24}{header}{ratios}")
    for name in first.seconds:
        cells = "".join(f"{_per_photo(r.seconds.get(name), r.photos):>17}{_mib(r.peak_bytes.get(name)):>17}"
                        f"{_mib(r.rise_bytes.get(name)):>17}" for r in results)
        ratio_cells = "".join(f"{_ratio(r.seconds.get(name, 0) / r.photos, first.seconds[name] / first.photos):>14}"
                              f"{_ratio(r.peak_bytes.get(name), first.peak_bytes.get(name)):>15}"
                              for r in results[1:])
        print(f"{name:<24}{cells}{ratio_cells}")
    print(f"{'whole run, wall':<24}" + "".join(f"{_per_photo(r.wall_seconds, r.photos):>17}" for r in results)
          + "".join(f"  x{(r.wall_seconds / r.photos) / (first.wall_seconds / first.photos):.2f} @{r.photos}"
                    for r in results[1:]))
    for label, value in (("peak RSS, process tree", lambda r: r.tree_peak_bytes),
                         ("max RSS, pipeline proc.", lambda r: r.process_max_rss_bytes)):
        print(f"{label:<24}" + "".join(f"{_mib(value(r)):>17}" for r in results)
              + "".join(f"  x{value(r) / value(first):.2f} @{r.photos}" for r in results[1:]))
    print(f"exit statuses: {', '.join(str(r.status) for r in results)} (3: the gate refused the model)")


def _per_photo(seconds: float | None, photos: int) -> str:
    return "-" if seconds is None else f"{seconds * 1000 / photos:.2f}"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / MIB:.0f}"


def _ratio(value: float | None, base: float | None) -> str:
    """Ratios of figures under a tenth of a millisecond per photo (resolvers, gates) are noise: left out."""
    return "-" if not value or not base or base < 1e-4 else f"{value / base:.2f}"


def _parser():
    parser = arguments.parser("python -m benchmarks.scale", __doc__, "bench-out/scale", data_root=False)
    parser.add_argument("--sizes", default="3170,31700", help="photo counts, comma-separated (make: SCALE_N)")
    parser.add_argument("--sources", nargs="+", default=[SHARED_PHOTOS, SHARED_MORE_PHOTOS],
                        help="folders of <class>/<photo> the photos are made from")
    return parser


if __name__ == "__main__":
    sys.exit(main())
