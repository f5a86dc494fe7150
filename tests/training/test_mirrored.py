"""Data-parallel training over two logical CPU devices matches one device: the multi-replica path works."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.training.training_fixtures import FEATURE_STORES

pytestmark = pytest.mark.e2e  # Trains in a fresh process, six times.

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_mirrored_over_two_devices_matches_one_device():
    """End to end, and the cached-feature phases (feature pass, head, fine-tuning) of the Trainer, both stores."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_USE_LEGACY_KERAS": "1"}
    done = subprocess.run([sys.executable, "-m", "tests.training.mirrored_run"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["one_device"]["replicas"] == 1 and runs["mirrored"]["replicas"] == 2
    np.testing.assert_allclose(runs["mirrored"]["loss"], runs["one_device"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(runs["mirrored"]["head"], runs["one_device"]["head"], atol=1e-4)
    assert runs["one_device"]["loss"][-1] < runs["one_device"]["loss"][0]
    for store in FEATURE_STORES:  # The feature cache in memory, and spilled to disk.
        one, two = runs[f"cached_{store}"]["one_device"], runs[f"cached_{store}"]["mirrored"]
        assert one["replicas"] == 1 and two["replicas"] == 2
        np.testing.assert_allclose(two["features"], one["features"], atol=1e-5)
        assert len(one["loss"]) == 4  # Two epochs of the head on pooled features, two of fine-tuning.
        np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-3)
        np.testing.assert_allclose(two["probabilities"], one["probabilities"], atol=1e-3)
    memory, disk = runs["cached_memory"]["one_device"], runs["cached_disk"]["one_device"]
    np.testing.assert_array_equal(disk["features"], memory["features"])  # float32 on disk: the same activations.
