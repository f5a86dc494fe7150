"""`IngestSettings`: everything the ingestion job needs besides where to read and write, typed and checked.

The component owns these fields; `pipeline_config.DataConfig` embeds them as the `data.*` settings, and they
reach the executor in the component's custom_config (a protobuf Struct), read back with `from_dict`, which coerces
and checks them as `components.settings` does for every component.
"""

from __future__ import annotations

import dataclasses
import typing

from components import settings as typed
from components.settings import check

CODELAB_CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")


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
    # Incremental ingestion: read and hash every photo, even one whose path, size and modification time match the
    # earlier artifact's (whose content key is then taken on trust, as rsync and make do).
    incremental_verify_content: bool = False

    def validate(self) -> None:
        check(len(self.classes) >= 2, "data.classes", "needs at least two classes")
        check(len(set(self.classes)) == len(self.classes), "data.classes", "has duplicate names")
        check(all(c and "/" not in c for c in self.classes), "data.classes", "names must be folder names")
        check(16 <= self.image_size <= 1024, "data.image_size", "must be between 16 and 1024")
        check(0.0 < self.eval_fraction < 1.0, "data.eval_fraction", "must be strictly between 0 and 1")
        check(self.records_per_shard >= 1, "data.records_per_shard", "must be at least 1")
        check(self.max_shards >= 1, "data.max_shards", "must be at least 1")
        check(0.0 <= self.max_rejected_fraction <= 1.0, "data.max_rejected_fraction", "must be in [0, 1]")
        check(self.max_image_pixels >= self.image_size**2, "data.max_image_pixels",
              "must allow at least image_size x image_size pixels")
        check(self.max_file_bytes >= 1, "data.max_file_bytes", "must be at least 1")
        check(1 <= self.jpeg_quality <= 100, "data.jpeg_quality", "must be between 1 and 100")

    @classmethod
    def from_dict(cls, values: typing.Mapping[str, typing.Any]) -> "IngestSettings":
        """The settings from plain values (the executor's custom_config), type-coerced and validated."""
        return typed.from_dict(cls, "data", values)

    def to_dict(self) -> dict[str, typing.Any]:
        """Only these fields, also on a subclass that adds its own (the pipeline config's data section)."""
        return {f.name: list(self.classes) if f.name == "classes" else getattr(self, f.name)
                for f in dataclasses.fields(IngestSettings)}

