"""Issue 20, part 7: a short seeded run of `make fuzz` (benchmarks/fuzz.py): mutated real photos of every
accepted format through ingestion's decoder, predict's and serving_default; none crashes or hangs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks import fuzz


def test_mutations_are_the_four_kinds():
    data = bytes(range(100))
    assert fuzz.mutate(data, [("flip", (0.0, 0))])[0] == 1
    assert fuzz.mutate(data, [("truncate", (0.5,))]) == data[:50]
    assert fuzz.mutate(data, [("header", (3, 0xFF, 2))])[:6] == bytes([0, 1, 2, 0xFF, 0xFF, 5])
    assert fuzz.mutate(data, [("duplicate", (0.1, 0.2, 0.0))]) == data[10:21] + data
    assert set(fuzz.seed_photos()) == {"jpeg", "jpeg_rotated", "png", "gif", "gif_animated", "bmp", "webp", "avif",
                                       "tiff"}


def test_a_short_seeded_fuzz_run_has_no_crash_no_hang_and_bounded_memory(tmp_path):
    """In its own process, as `make fuzz` runs, so the peak memory is the fuzz run's, not the test session's."""
    run = subprocess.run([sys.executable, "-m", "benchmarks.fuzz", "--inputs", "300", "--seed", "20", "--out",
                          str(tmp_path)], capture_output=True, text=True, timeout=900,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout[run.stdout.index("{"):])
    assert (figures["inputs"], figures["crashes"], figures["hangs"]) == (300, 0, 0), sorted(tmp_path.iterdir())
    for decoder, counts in figures["outcomes"].items():
        assert counts["answered"] + counts["refused"] == 300 and counts["answered"] > 0 and counts["refused"] > 0
    assert figures["peak_rss_mb"] < 1500
