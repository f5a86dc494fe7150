"""One run per pipeline root: a second `flowers-pipeline run` is refused at once; a killed run frees the root
and reads as interrupted, not running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from components.errors import UserError
from components.report import collect_run
from pipeline.root_lock import exclusive_run, in_use

FAST = ["--set", "data.classes=daisy,roses", "--set", "data.image_size=32", "--set", "training.model=squeezenet",
        "--set", "training.epochs=1", "--set", "training.warmup_epochs=0"]


def test_the_lock_is_exclusive_and_released_after_the_block(tmp_path):
    root = str(tmp_path / "root")
    assert not in_use(root)
    with exclusive_run(root):
        assert in_use(root)
        with pytest.raises(UserError, match=rf"another run is using PIPELINE_ROOT {root} \(pid {os.getpid()}, "):
            with exclusive_run(root):
                pass
    assert not in_use(root)


def _cli(*args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def _wait_for_a_running_step(process: subprocess.Popen, metadata_path: str, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-3000:]
        if os.path.exists(metadata_path):
            record = collect_run(metadata_path, "flowers", os.path.dirname(metadata_path), in_progress=True)
            running = [c.node_id for c in record.components if c.state == "running"]
            if running:
                return running[0]
        time.sleep(0.5)
    raise AssertionError("the first run never started a component")


@pytest.mark.e2e  # Starts a real pipeline run in a second process.
def test_two_concurrent_runs_on_one_root(tmp_path, make_photo_folder):
    """The first run holds the root; the second is refused in one line before any work, with no summary (so it
    cannot describe the other run). Killed with -9, the first run frees the root and reads as interrupted."""
    make_photo_folder(tmp_path / "photos", ["daisy", "roses"], per_class=4)
    root = tmp_path / "root"
    flags = ["--data-root", str(tmp_path / "photos"), "--pipeline-root", str(root),
             "--serving-dir", str(tmp_path / "serving"), *FAST]
    first = _cli("run", *flags)
    try:
        step = _wait_for_a_running_step(first, str(root / "metadata.sqlite"))
        second = _cli("run", *flags)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 1
        ours = [line for line in err.splitlines() if line.startswith("flowers-pipeline")]  # Not TF's C++ noise.
        assert len(ours) == 1 and "Traceback" not in err
        assert ours[0].startswith(f"flowers-pipeline run: another run is using PIPELINE_ROOT {root} "
                                  f"(pid {first.pid}, started ")
        assert ours[0].endswith("); wait for it to finish, or pass another --pipeline-root")
        assert "Run " not in out and "Pipeline 'flowers'" not in out  # Refused before it printed anything.
        assert out.splitlines() == [f"Result: failed (UserError: another run is using PIPELINE_ROOT {root} "
                                    f"{ours[0].split(f'PIPELINE_ROOT {root} ', 1)[1]})"]
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
    assert not in_use(str(root))
    report = _cli("report", "--pipeline-root", str(root))
    out, err = report.communicate(timeout=120)
    assert report.returncode == 0, err
    states = out.split("components: ", 1)[1].splitlines()[0]
    assert step in states and " interrupted" in states and " running" not in states, states
