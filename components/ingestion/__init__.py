"""Photo folders -> TFRecords: the TFX component, the standalone Beam job and their pure parts.

Names load lazily (PEP 562) so Beam workers and the `ingest` command import Pillow and Beam, not TFX and
TensorFlow, when they only need the job.
"""

import importlib

_EXPORTS = {
    "make_example_gen": "component",
    "PreviousExamplesResolver": "component",
    "Executor": "executor",
    "run_ingest": "beam_job",
    "read_ingest_summary": "summary",
    "IngestSettings": "settings",
    "check_data_root": "sources",
    "Rejected": "image",
    "transform": "image",
    "content_key": "split",
    "split_for": "split",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
