"""The flowers pipeline: one DAG (`create_pipeline`), its runners and the `flowers-pipeline` CLI."""

import os

# Keras 2 (tf_keras) for the whole TFX 1.16 stack, set before TensorFlow loads wherever a process can start:
# pipeline/ (the CLI), components/ (Beam workers, the Trainer, Vertex containers), pipeline_config.py (scripts).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
