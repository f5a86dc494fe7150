"""The Trainer's settings, `training.*`: composed into `pipeline_config.PipelineConfig` on the way in, and rebuilt
by `run_fn` from `custom_config` with `TrainingSettings.from_dict`, so the same checks run in a Vertex container.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from components import settings as typed
from components.settings import check

MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seeds are unsigned 32-bit.
MODEL_OPTIONS = "training.model_options"


def model_option(model: str, option: str) -> str:
    """The dotted config name of a model's option, as `--set` takes it and as error messages name it."""
    return f"{MODEL_OPTIONS}.{model}.{option}"


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """The model and how it is trained."""

    model: str = "mobilenet_v2"  # A model of `models/` by name, or the dotted path of a model module elsewhere.
    # Each model's own options, by model then option: {"mobilenet_v2": {"alpha": 0.35}}; an option left out keeps
    # the default that the model module declares (its `Options`).
    model_options: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    epochs: int = 10
    # Per replica; the global batch is this times the replica count. 32: the batch the recipe was cross-validated
    # at (README "The Trainer's recipe"); the codelab's 16 per TPU core made a CPU's fine-tuning step cost about
    # as much as at 32 (a 2-core host: 8 % more Trainer CPU, 16 % more fine-tuning wall, same accuracy).
    batch_size: int = 32
    learning_rate: float = 5e-3  # Peak rate for the reference batch of 16, scaled with the global batch.
    # (5e-3: a frozen MobileNetV2 + linear head reached 0.88-0.90 in 4-fold CV on the train split at 3e-3..1e-2,
    # 0.84 at 1e-3, within 10 epochs.)
    warmup_epochs: int = 1
    lr_decay: float = 0.8  # Per-epoch decay after warm-up, as in the codelab.
    # The second phase (README "The Trainer's recipe", from train-split cross-validation): MobileNetV2's last
    # three blocks and Conv_1 (29 layers), 8 epochs at 5e-4 with cosine decay, from 400 train photos up.
    fine_tune_layers: int = 29  # Top backbone layers trained in a second phase (cut at a block boundary below).
    fine_tune_epochs: int = 8
    fine_tune_learning_rate: float = 5e-4  # Peak for the reference batch of 16, then cosine decay.
    fine_tune_min_records: int = 400  # The second phase runs only when the train split holds this many photos.
    feature_cache: bool = True  # Run a model's frozen part once per photo view and train on its outputs.
    feature_cache_max_bytes: int = 2**30  # Host memory for those outputs; beyond it they spill to local disk.
    # On a host that trains on its CPU, that pass runs on the TFLite interpreter (`frozen_pass.py`: 3.4x faster).
    tflite_feature_pass: bool = True
    tflite_feature_pass_min_views: int = 700  # Below this many views the 3-4 s conversion costs more than it saves.
    # Folds of the data review's out-of-fold head (label issues, temperature); Northcutt et al. use 5.
    data_review_folds: int = 5
    # Share of the train photos kept out of both phases when the model fine-tunes, to fit the exported model's
    # temperature on (the out-of-fold heads are not fine-tuned, so their temperature under-corrects it); 0 fits
    # it on the out-of-fold logits even then.
    calibration_holdout: float = 0.1
    shuffle_buffer: int = 2048
    steps_per_execution: int = 32  # Steps per host round-trip, used on TPU only (capped at an epoch).
    accelerator: str = "auto"  # auto | tpu | gpu | cpu
    tpu: str = ""  # TPU name or grpc:// address; empty = discover from the environment.
    seed: int = 42
    warm_start: bool = False  # Start from the last blessed model's weights (measured no gain: make bench-retrain).

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainingSettings":
        """The settings from plain values (`custom_config["training"]`), type-coerced and validated."""
        return typed.from_dict(cls, "training", values)

    def validate(self) -> None:
        check(self.model != "", "training.model", "must name a registered model")
        check(self.epochs >= 1, "training.epochs", "must be at least 1")
        check(self.batch_size >= 1, "training.batch_size", "must be at least 1")
        check(0 < self.learning_rate <= 1, "training.learning_rate", "must be in (0, 1]")
        check(0 <= self.warmup_epochs <= self.epochs, "training.warmup_epochs",
              "must be between 0 and epochs (warm-up may span the whole run)")
        check(0.0 < self.lr_decay <= 1.0, "training.lr_decay", "must be in (0, 1]")
        check(self.fine_tune_layers >= 0, "training.fine_tune_layers", "must not be negative")
        check(self.fine_tune_epochs >= 0, "training.fine_tune_epochs", "must not be negative")
        check(0 < self.fine_tune_learning_rate <= 1, "training.fine_tune_learning_rate", "must be in (0, 1]")
        check(self.fine_tune_min_records >= 0, "training.fine_tune_min_records", "must not be negative")
        check(self.tflite_feature_pass_min_views >= 0, "training.tflite_feature_pass_min_views",
              "must not be negative")
        check(self.feature_cache_max_bytes >= 0, "training.feature_cache_max_bytes", "must not be negative")
        check(self.data_review_folds >= 2, "training.data_review_folds", "must be at least 2")
        check(0 <= self.calibration_holdout <= 0.5, "training.calibration_holdout", "must be between 0 and 0.5")
        check(self.shuffle_buffer >= 1, "training.shuffle_buffer", "must be at least 1")
        check(self.steps_per_execution >= 1, "training.steps_per_execution", "must be at least 1")
        check(self.accelerator in ("auto", "tpu", "gpu", "cpu"), "training.accelerator",
              "must be one of auto, tpu, gpu, cpu")
        check(0 <= self.seed <= MAX_SEED, "training.seed", f"must be between 0 and {MAX_SEED}")
        check(isinstance(self.model_options, dict) and all(isinstance(v, dict) for v in self.model_options.values()),
              MODEL_OPTIONS, "must map model names to {option: value} mappings")
        for model in self.model_options:
            self.options_of(model)  # Options are set only where they differ, so only those import their model.

    def options(self):
        """The chosen model's options (its module's `Options`)."""
        return self.options_of(self.model)

    def options_of(self, model: str):
        """`model`'s options: its module's defaults with those set in `model_options`, validated (this imports the
        model's module, and so TensorFlow)."""
        from components.training import models

        return models.options_for(model, self.model_options.get(model, {}))

    def with_model_option(self, model: str, option: str, value: Any) -> "TrainingSettings":
        """A copy with `training.model_options.<model>.<option>` set (not yet validated)."""
        options = {**self.model_options, model: {**self.model_options.get(model, {}), option: value}}
        return dataclasses.replace(self, model_options=options)
