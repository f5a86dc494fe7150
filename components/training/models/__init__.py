"""Model registry: every module in this package with a `build(spec)` function is a model, named by its file.

Adding a model is adding one file. Names are looked up, never imported from a config string, so a setting can
only choose among the modules shipped here.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Callable

from components.errors import UserError
from components.training import autograph

autograph.exclude_tf_keras()  # Every path that builds a model trains or serves it.


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What a builder needs; a model ignores the fields that do not apply to it (squeezenet has no backbone)."""

    image_size: int
    num_classes: int
    weights: str = "none"  # imagenet | none | path to a Keras .h5 backbone
    alpha: float = 0.0  # 0 = follow the weights file
    dropout: float = 0.2
    fine_tune_layers: int = 0  # Top backbone layers trained in the fine-tuning phase.


def names() -> list[str]:
    """Registered model names, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if hasattr(_module(m.name), "build"))


def builder(name: str) -> Callable:
    """The `build(spec) -> tf.keras.Model` of a registered model; an unknown name lists the known ones."""
    known = names()
    if name not in known:
        raise UserError(f"training.model: unknown model {name!r}; known models: {', '.join(known)}")
    return _module(name).build


def build(name: str, spec: ModelSpec):
    return builder(name)(spec)


def description(name: str) -> str:
    """The first line of the model module's docstring."""
    return (_module(name).__doc__ or "").strip().splitlines()[0]


def _module(name: str):
    return importlib.import_module(f"{__name__}.{name}")
