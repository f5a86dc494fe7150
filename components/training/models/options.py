"""A model's own settings, `training.model_options.<model>.<option>`: the model module declares them as a frozen
dataclass named `Options` that extends this one (defaults, `validate()`), and says through it what the rest of
the project needs to know about them, so that neither the Trainer, the commands nor the Vertex runner name a model.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from components import settings as typed
from components.training.settings import MODEL_OPTIONS


@dataclasses.dataclass(frozen=True)
class Options:
    """No options: the options of a model module that declares none."""

    @classmethod
    def from_dict(cls, model: str, values: Mapping[str, Any]):
        """These options from plain values (typed, or JSON from `custom_config`), type-coerced and validated."""
        return typed.from_dict(cls, f"{MODEL_OPTIONS}.{model}", values)

    def validate(self) -> None:
        """Checks that need no file; raise `ConfigError` naming the option (`settings.model_option`)."""

    def check_files(self) -> None:
        """Checks that read the local files the options name (before a run on this machine); raise `UserError`."""

    def local_files(self) -> tuple[str, ...]:
        """The options whose values are local file paths that `build` reads (a Vertex container needs them
        copied into its image or to Cloud Storage)."""
        return ()

    def without_downloads(self) -> "Options":
        """The same architecture, built without reading or downloading pretrained weights (for listings)."""
        return self

    def describe(self) -> str:
        """What these options make of the model, in a few words for `flowers-pipeline models` ("" for nothing)."""
        return ""
