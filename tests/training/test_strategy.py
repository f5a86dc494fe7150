"""Strategy selection on every path; the TPU path is exercised up to the cluster resolver."""

from __future__ import annotations

import pytest
import tensorflow as tf

from components.errors import UserError
from components.training import strategy


@pytest.mark.parametrize("accelerator, tpu, tpu_visible, gpus, expected", [
    ("auto", "", False, 0, "default"),
    ("auto", "", False, 1, "default"),
    ("auto", "", False, 4, "mirrored"),
    ("auto", "my-tpu", False, 0, "tpu"),
    ("auto", "", True, 0, "tpu"),
    ("tpu", "", False, 0, "tpu"),
    ("gpu", "", False, 1, "default"),
    ("gpu", "", False, 2, "mirrored"),
    ("cpu", "", True, 8, "cpu"),
])
def test_choose(accelerator, tpu, tpu_visible, gpus, expected):
    assert strategy.choose(accelerator, tpu, tpu_visible, gpus) == expected


def test_gpu_without_a_gpu_fails_clearly():
    with pytest.raises(UserError, match="gpu was asked for but TensorFlow sees no GPU"):
        strategy.choose("gpu", "", False, 0)


def test_cpu_placement_is_one_float32_replica_without_xla():
    placement = strategy.resolve("cpu", steps_per_execution=32)
    assert isinstance(placement.strategy, tf.distribute.OneDeviceStrategy)
    assert (placement.replicas, placement.precision, placement.steps_per_execution, placement.jit_compile) == \
        (1, "float32", 1, False)


def test_auto_on_this_machine_is_the_default_strategy():
    assert strategy.resolve("auto").strategy is tf.distribute.get_strategy()


def test_tpu_without_a_name_reaches_the_real_resolver_and_fails_clearly(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(UserError, match="cannot reach TPU .*Please provide a TPU Name"):
        strategy.resolve("tpu")


def test_tpu_name_is_handed_to_the_resolver():
    """The boundary: past the resolver starts a real TPU, so a resolver that finds none stands in for it."""
    asked = []

    def resolver_factory(tpu):
        asked.append(tpu)
        raise ValueError(f"TPU {tpu} not found")

    with pytest.raises(UserError, match="cannot reach TPU grpc://10.0.0.2:8470: TPU grpc://10.0.0.2:8470 not found"):
        strategy.resolve("auto", "grpc://10.0.0.2:8470", 32, resolver_factory=resolver_factory)
    assert asked == ["grpc://10.0.0.2:8470"]


def test_precision_policy_is_restored():
    with strategy.precision("mixed_bfloat16"):
        assert tf.keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        layer = tf.keras.layers.Dense(2, dtype="float32")
        assert layer.dtype_policy.compute_dtype == "float32"
    assert tf.keras.mixed_precision.global_policy().name == "float32"
