"""`IngestSettings`: everything the ingestion job needs besides where to read and write, typed and checked.

The component owns these fields; `pipeline_config.DataConfig` embeds them as the `data.*` settings, and they
reach the executor in the component's custom_config (a protobuf Struct), read back with `from_dict`.
"""

from __future__ import annotations

import dataclasses
import typing

CODELAB_CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")


class InvalidSetting(ValueError):
    """A value out of range; the message starts with the field's name, so a config can prefix its section."""


@dataclasses.dataclass(frozen=True)
class IngestSettings:
    """How photos become records; travels in the component's custom_config."""

    classes: tuple[str, ...] = CODELAB_CLASSES
    image_size: int = 192
    eval_fraction: float = 0.2
    records_per_shard: int = 250  # Photos per Beam work unit, which writes one file of each split.
    max_shards: int = 64  # Files per split at most (and units of work that can run in parallel).
    max_rejected_fraction: float = 0.10
    max_image_pixels: int = 50_000_000
    max_file_bytes: int = 256 * 2**20  # Bigger files are rejected unread: a misnamed video must not fill memory.
    jpeg_quality: int = 95

    def validate(self) -> None:
        """InvalidSetting naming the first field out of range."""
        _check(len(self.classes) >= 2, "classes", "needs at least two classes")
        _check(len(set(self.classes)) == len(self.classes), "classes", "has duplicate names")
        _check(all(c and "/" not in c for c in self.classes), "classes", "names must be folder names")
        _check(16 <= self.image_size <= 1024, "image_size", "must be between 16 and 1024")
        _check(0.0 < self.eval_fraction < 1.0, "eval_fraction", "must be strictly between 0 and 1")
        _check(self.records_per_shard >= 1, "records_per_shard", "must be at least 1")
        _check(self.max_shards >= 1, "max_shards", "must be at least 1")
        _check(0.0 <= self.max_rejected_fraction <= 1.0, "max_rejected_fraction", "must be in [0, 1]")
        _check(self.max_image_pixels >= self.image_size**2, "max_image_pixels",
               "must allow at least image_size x image_size pixels")
        _check(self.max_file_bytes >= 1, "max_file_bytes", "must be at least 1")
        _check(1 <= self.jpeg_quality <= 100, "jpeg_quality", "must be between 1 and 100")

    @classmethod
    def from_dict(cls, values: typing.Mapping[str, typing.Any]) -> "IngestSettings":
        """The settings among `values` (other keys are left out), coerced to the field types (a protobuf Struct
        turns every number into a float) and validated."""
        hints = typing.get_type_hints(cls)
        settings = cls(**{f.name: tuple(values[f.name]) if f.name == "classes" else hints[f.name](values[f.name])
                          for f in dataclasses.fields(cls)})
        settings.validate()
        return settings

    def to_dict(self) -> dict[str, typing.Any]:
        """Only these fields, also on a subclass that adds its own (the pipeline config's data section)."""
        return {f.name: list(self.classes) if f.name == "classes" else getattr(self, f.name)
                for f in dataclasses.fields(IngestSettings)}


def _check(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise InvalidSetting(f"{field}: {message}")
