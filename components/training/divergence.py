"""Stop a run whose loss stopped being a number: a NaN or infinite model must never reach the Evaluator.

Keras' TerminateOnNaN only stops `fit`, after which the Trainer would export the broken model and the gate might
bless it (on a first run with a low `gate.min_accuracy`, a model that always answers one class can pass). Failing
the Trainer instead leaves no model artifact, so nothing downstream runs, and says what to change.
"""

from __future__ import annotations

import math

import tensorflow as tf

from components.errors import UserError


class TrainingDiverged(UserError):
    """The loss became NaN or infinite; no model is exported."""


class FailOnNonFiniteLoss(tf.keras.callbacks.Callback):
    """Raises TrainingDiverged at the end of the first epoch whose training or validation loss is not finite.

    Per epoch, not per step: the epoch's loss is the mean over its steps, so one NaN step makes it NaN, and a
    per-step hook makes Keras fetch the loss after every step (it doubled the time of cached-feature epochs).
    """

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, "loss", f"epoch {epoch + 1}")
        self._check(logs, "val_loss", f"the validation of epoch {epoch + 1}")

    @staticmethod
    def _check(logs, key: str, where: str) -> None:
        value = (logs or {}).get(key)
        if value is not None and not math.isfinite(float(value)):
            raise TrainingDiverged(
                f"training diverged: the {key.replace('_', ' ')} became {float(value)} at {where}; the model was "
                "not exported, so it cannot be blessed or pushed. Lower training.learning_rate (or "
                "training.fine_tune_learning_rate) and run again")
