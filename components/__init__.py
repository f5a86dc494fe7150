"""The pipeline's own components and the pure functions behind them, one folder per concern."""

import os

# Keras 2 (tf_keras) for the whole TFX 1.16 stack, set before TensorFlow loads wherever a process can start:
# pipeline/ (the CLI), components/ (Beam workers, the Trainer, Vertex containers), pipeline_config.py (scripts).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

# Custom artifact types by the name their TYPE_NAME gives them (components.artifacts): the Vertex container entry
# point imports `components.EdgeModel` from a compiled pipeline's schema title. Loaded lazily (PEP 562), so
# importing `components` stays free of TFX.
_ARTIFACT_TYPES = {"EdgeModel": "components.edge.component"}


def __getattr__(name):
    if name not in _ARTIFACT_TYPES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_ARTIFACT_TYPES[name]), name)
