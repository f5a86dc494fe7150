"""The ingestion's cache key: TFX's input fingerprint plus the sorted listing of the data root.

FileBasedExampleGen fingerprints only the number of files, their total bytes and their mtimes, none of which a
move between class folders changes (nor a rename, nor a swap of equal-sized photos, nor a copy that keeps mtimes:
`cp -p`, `rsync -t`, `tar x`). A label is a folder name, so moving a photo relabels it; the listing digest makes
that re-ingest. On Vertex, TFX's own driver container computes the key; there the data root is on Cloud Storage,
where every move, rename or copy writes a new object with a new mtime, which TFX's fingerprint does see.
"""

from __future__ import annotations

from typing import Iterable, Optional

from tfx.components.example_gen import driver, input_processor
from tfx.proto import example_gen_pb2, range_config_pb2

from components.ingestion import sources


class PhotoListingInputProcessor(input_processor.FileBasedInputProcessor):
    def get_input_fingerprint(self, span: int, version: Optional[int]) -> Optional[str]:
        stock = super().get_input_fingerprint(span, version)
        return f"{stock}\n{sources.listing_fingerprint(self._input_base_uri)}"


class PhotoListingDriver(driver.FileBasedDriver):
    """FileBasedDriver whose fingerprint also covers every relative path, size and mtime under the root."""

    def get_input_processor(self, splits: Iterable[example_gen_pb2.Input.Split],
                            range_config: Optional[range_config_pb2.RangeConfig] = None,
                            input_base_uri: Optional[str] = None) -> input_processor.InputProcessor:
        assert input_base_uri
        return PhotoListingInputProcessor(input_base_uri, splits, range_config)
