"""The pipeline's own components and the pure functions behind them, one folder per concern."""

import os

# Keras 2 (tf_keras) for the whole TFX 1.16 stack, set before TensorFlow loads wherever a process can start:
# pipeline/ (the CLI), components/ (Beam workers, the Trainer, Vertex containers), pipeline_config.py (scripts).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
