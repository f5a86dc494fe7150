"""The Trainer: pluggable models (see `models/`) trained under the strategy the accelerator calls for.

The DAG needs only the two names below; everything else is read by `trainer.run_fn` from `custom_config`,
so the same function runs locally and in Vertex containers without reading `pipeline_config`.
"""

from __future__ import annotations

from typing import Any

TRAINER_RUN_FN = "components.training.trainer.run_fn"
# gate.target_accuracy: the accuracy on answered photos that the confidence threshold is chosen for (README,
# "The Trainer's data review": above the real job's 0.93 on every photo, so the threshold has work to do).
DEFAULT_TARGET_ACCURACY = 0.95


def trainer_custom_config(training: dict[str, Any], classes: list[str], image_size: int,
                          max_image_pixels: int = 50_000_000,
                          target_accuracy: float = DEFAULT_TARGET_ACCURACY) -> dict[str, Any]:
    """The Trainer's custom_config: the training section as plain JSON values, plus what the data looks like
    (`max_image_pixels`, ingestion's bound, is baked into the export's photo signature) and the gate's
    `target_accuracy`, for which the Trainer chooses the version's confidence threshold."""
    return {"training": {k: (list(v) if isinstance(v, tuple) else v) for k, v in training.items()},
            "classes": list(classes),
            "image_size": int(image_size),
            "max_image_pixels": int(max_image_pixels),
            "target_accuracy": float(target_accuracy)}
