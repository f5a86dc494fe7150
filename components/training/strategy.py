"""Picks the distribution strategy from `training.accelerator` and `training.tpu`, and what goes with it.

TPU: TPUClusterResolver + TPUStrategy, mixed_bfloat16 and several steps per execution (host round-trips are
the TPU's bottleneck). Several GPUs: MirroredStrategy. Otherwise the default strategy (one device).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os

import tensorflow as tf

from components.errors import UserError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Placement:
    """A strategy and the settings that must agree with it."""

    strategy: tf.distribute.Strategy
    kind: str  # tpu | mirrored | cpu | default
    precision: str  # Keras mixed-precision policy name
    steps_per_execution: int
    jit_compile: bool  # XLA on accelerators; on CPU it measured 4-20x slower than TensorFlow's own kernels.

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync


def choose(accelerator: str, tpu: str, tpu_visible: bool, gpus: int) -> str:
    """Which kind of strategy; pure, so every path is testable on a machine without accelerators."""
    if accelerator == "tpu" or (accelerator == "auto" and (tpu or tpu_visible)):
        return "tpu"
    if accelerator == "gpu" and gpus == 0:
        raise UserError("training.accelerator: gpu was asked for but TensorFlow sees no GPU")
    if accelerator in ("auto", "gpu") and gpus >= 2:
        return "mirrored"
    return "cpu" if accelerator == "cpu" else "default"


def resolve(accelerator: str, tpu: str = "", steps_per_execution: int = 1,
            resolver_factory=None) -> Placement:
    """The Placement for these settings; `resolver_factory(tpu=...)` defaults to TPUClusterResolver."""
    kind = choose(accelerator, tpu, _tpu_visible(), len(tf.config.list_physical_devices("GPU")))
    if kind == "tpu":
        strategy = _tpu_strategy(tpu, resolver_factory or tf.distribute.cluster_resolver.TPUClusterResolver)
        placement = Placement(strategy, kind, "mixed_bfloat16", steps_per_execution, jit_compile=True)
    else:
        strategy = {"mirrored": tf.distribute.MirroredStrategy,
                    "cpu": lambda: tf.distribute.OneDeviceStrategy("/cpu:0"),
                    "default": tf.distribute.get_strategy}[kind]()
        gpus = kind != "cpu" and bool(tf.config.list_physical_devices("GPU"))
        placement = Placement(strategy, kind, "float32", 1, jit_compile=gpus)
    log.info("distribution: %s strategy (%s) with %d replica(s), %s, %d step(s) per execution, XLA %s",
             kind, type(strategy).__name__, placement.replicas, placement.precision, placement.steps_per_execution,
             "on" if placement.jit_compile else "off")
    return placement


@contextlib.contextmanager
def precision(policy: str):
    """Build and train under a Keras mixed-precision policy, restoring the previous one afterwards."""
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)


def _tpu_visible() -> bool:
    """A TPU VM's local chips or a TPU_NAME set by Vertex / Cloud TPU tooling."""
    return bool(os.environ.get("TPU_NAME")) or bool(tf.config.list_physical_devices("TPU"))


def _tpu_strategy(tpu: str, resolver_factory) -> tf.distribute.Strategy:
    name = tpu or ("local" if tf.config.list_physical_devices("TPU") else None)
    try:
        resolver = resolver_factory(tpu=name)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise UserError(f"training.accelerator=tpu: cannot reach TPU {name or '(none named, TPU_NAME unset)'}: "
                        f"{error}; set training.tpu to a TPU name or grpc:// address") from None
    return tf.distribute.TPUStrategy(resolver)
