"""The flowers pipeline: one DAG (`create_pipeline`), its runners and the `flowers-pipeline` CLI."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # Before TensorFlow loads: the TFX 1.16 stack is Keras 2.
