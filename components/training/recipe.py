"""The fine-tuning rule: whether, how deep, how long and how fast to train the top of a pretrained backbone.

Fine-tuning pays only with enough photos to move a few hundred thousand weights without memorising them, so it
is on when the train split holds at least training.fine_tune_min_records; the defaults come from train-split
cross-validation on 2,510 photos and on a 500-photo subset (README: "The Trainer's recipe").
"""

from __future__ import annotations

import dataclasses

from components.training.settings import TrainingSettings


@dataclasses.dataclass(frozen=True)
class FineTuning:
    layers: int  # Top backbone layers in the tuned part (built in even when no epochs run, for warm starts).
    epochs: int  # 0: no fine-tuning phase.
    learning_rate: float
    reason: str

    def describe(self) -> str:
        if not self.epochs:
            return f"no fine-tuning ({self.reason})"
        return (f"then fine-tuning the top {self.layers} backbone layers for {self.epochs} epochs at "
                f"{self.learning_rate:g} ({self.reason})")


def fine_tuning(settings: TrainingSettings, train_records: int) -> FineTuning:
    """The second phase for these settings and this much training data."""
    layers, epochs, rate = settings.fine_tune_layers, settings.fine_tune_epochs, settings.fine_tune_learning_rate
    if not layers or not epochs:
        return FineTuning(0, 0, rate, "training.fine_tune_layers or fine_tune_epochs is 0")
    if train_records < settings.fine_tune_min_records:
        return FineTuning(0, 0, rate, f"{train_records} train photos, fewer than training.fine_tune_min_records "
                                      f"({settings.fine_tune_min_records})")
    return FineTuning(layers, epochs, rate, f"{train_records} train photos")
