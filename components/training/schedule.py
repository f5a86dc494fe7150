"""The codelab's learning-rate shape: a linear ramp to the peak, then exponential decay per epoch.

Computed per step inside the optimizer, so it needs no Python callback and compiles with XLA.
"""

from __future__ import annotations

import tensorflow as tf

REFERENCE_BATCH = 16  # training.learning_rate is the peak for this global batch size.


def scaled(learning_rate: float, global_batch: int) -> float:
    """Linear scaling: a batch k times larger takes steps k times larger."""
    return learning_rate * global_batch / REFERENCE_BATCH


class WarmupDecay(tf.keras.optimizers.schedules.LearningRateSchedule):
    """peak * (step + 1) / warm-up steps during warm-up, then peak * decay ** (epochs since warm-up)."""

    def __init__(self, peak: float, steps_per_epoch: int, warmup_epochs: int, decay: float):
        self.peak = peak
        self.steps_per_epoch = steps_per_epoch
        self.warmup_epochs = warmup_epochs
        self.decay = decay

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup_steps = float(self.warmup_epochs * self.steps_per_epoch)
        ramp = self.peak * (step + 1.0) / max(warmup_steps, 1.0)
        decayed = self.peak * self.decay ** ((step - warmup_steps) / self.steps_per_epoch)
        return tf.where(step < warmup_steps, ramp, decayed)

    def get_config(self):
        return {"peak": self.peak, "steps_per_epoch": self.steps_per_epoch,
                "warmup_epochs": self.warmup_epochs, "decay": self.decay}
