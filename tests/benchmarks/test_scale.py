"""make bench-scale's parts: the distinct photo variants it trains on, and the memory watch per component."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys

import numpy as np
from PIL import Image

from benchmarks import scale_photos
from benchmarks.scale import TreeMemory


def test_variants_are_distinct_photos_in_their_class_and_the_folder_is_reused(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("daisy", "roses"):
        (tmp_path / "source" / label).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(tmp_path / "source" / label / "a.jpg")
    target = scale_photos.build([str(tmp_path / "source")], 10, tmp_path / "photos-10")
    made = {label: sorted((target / label).iterdir()) for label in ("daisy", "roses")}
    assert [len(photos) for photos in made.values()] == [5, 5]  # Each source in turn, in its own class.
    contents = [photo.read_bytes() for photos in made.values() for photo in photos]
    assert len({hashlib.sha256(c).digest() for c in contents}) == 10
    source = Image.open(tmp_path / "source" / "daisy" / "a.jpg").convert("RGB")
    for photo in made["daisy"]:  # Not the source resized: another crop, flip or colour.
        variant = Image.open(io.BytesIO(photo.read_bytes())).convert("RGB")
        resized = np.asarray(source.resize(variant.size, Image.BILINEAR), np.float32)
        assert np.abs(np.asarray(variant, np.float32) - resized).mean() > 5
    modified = made["daisy"][0].stat().st_mtime_ns
    assert scale_photos.build([str(tmp_path / "source")], 10, tmp_path / "photos-10") == target
    assert made["daisy"][0].stat().st_mtime_ns == modified


def test_memory_is_charged_to_the_component_running_when_it_grows():
    script = ("import time; print('  Small  started', flush=True); time.sleep(1); print('  Small  done in 1.0 s');"
              "print('  Big  started', flush=True); time.sleep(0.5); block = b'x' * (300 * 2**20); time.sleep(1);"
              "print('  Big  done in 1.5 s', flush=True)")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    for line in process.stdout:
        memory.progress(line.rstrip("\n"))
    process.wait()
    memory.stop()
    assert memory.peak["Big"] - memory.start["Big"] > 250 * 2**20
    assert memory.peak["Small"] - memory.start["Small"] < 50 * 2**20
    assert memory.whole >= memory.peak["Big"]
