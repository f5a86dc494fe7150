"""A run whose loss becomes NaN or infinite fails the Trainer with a sentence and exports nothing to bless."""

from __future__ import annotations

import os

import pytest

from components.errors import UserError
from components.training.divergence import FailOnNonFiniteLoss, TrainingDiverged
from tests.training.training_fixtures import fn_args, training_settings


@pytest.mark.e2e  # run_fn until the loss diverges.
def test_an_infinite_learning_rate_fails_the_trainer_and_exports_no_model(dataset, tmp_path, monkeypatch):
    """What `training.learning_rate=inf` did before the settings refused it (in run_fn too, so the rate is made
    infinite after them): a NaN model that answers one class."""
    from components.training import schedule
    from components.training.trainer import run_fn

    monkeypatch.setattr(schedule, "scaled", lambda rate, global_batch: float("inf"))
    args = fn_args(dataset["examples"], str(tmp_path), training_settings(epochs=2))
    with pytest.raises(TrainingDiverged, match=r"training diverged: the loss became nan at epoch 1;"):
        run_fn(args)
    assert not os.path.exists(os.path.join(args.serving_model_dir, "saved_model.pb"))
    assert issubclass(TrainingDiverged, UserError)  # The CLI prints it as one line.


@pytest.mark.parametrize("logs", [{"loss": float("inf"), "val_loss": 0.7}, {"loss": 0.5, "val_loss": float("nan")}])
def test_infinite_loss_and_nan_validation_loss_are_caught(logs):
    callback = FailOnNonFiniteLoss()
    with pytest.raises(TrainingDiverged, match="lower|Lower"):
        callback.on_epoch_end(0, logs)
    callback.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.7})
