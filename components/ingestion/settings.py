"""`IngestSettings`: everything the ingestion job needs besides where to read and write, typed."""

from __future__ import annotations

import dataclasses
import typing


@dataclasses.dataclass(frozen=True)
class IngestSettings:
    """Everything the job needs besides where to read and write; travels in the component's custom_config."""

    classes: tuple[str, ...]
    image_size: int
    eval_fraction: float
    records_per_shard: int
    max_shards: int
    max_rejected_fraction: float
    max_image_pixels: int
    max_file_bytes: int
    jpeg_quality: int

    @classmethod
    def from_dict(cls, values: typing.Mapping[str, typing.Any]) -> "IngestSettings":
        """Coerce to the field types (a protobuf Struct turns every number into a float)."""
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: tuple(values[f.name]) if f.name == "classes" else hints[f.name](values[f.name])
                      for f in dataclasses.fields(cls)})

    def to_dict(self) -> dict[str, typing.Any]:
        return {**dataclasses.asdict(self), "classes": list(self.classes)}
