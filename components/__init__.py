"""The pipeline's own components and the pure functions behind them, one folder per concern."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # Before TensorFlow loads, also in Beam and Trainer workers.
