"""Keep AutoGraph out of tf_keras, as TensorFlow already does for `keras`.

TensorFlow's conversion rules skip modules named `keras` but not `tf_keras` (Keras 2 under
TF_USE_LEGACY_KERAS=1), so every first `fit`/`evaluate`/`predict` re-parsed all of Keras' layer code: tracing the
codelab SqueezeNet's train step took 37 s instead of 9 s on this machine. Keras' code is written to run without
AutoGraph (that is why `keras` is excluded), so excluding `tf_keras` too changes speed only.
"""

from __future__ import annotations

from tensorflow.python.autograph.core import config


def exclude_tf_keras() -> None:
    """Idempotent; applies to functions traced after the call."""
    rule = config.DoNotConvert("tf_keras")
    if not any(getattr(r, "_prefix", None) == "tf_keras" for r in config.CONVERSION_RULES):
        config.CONVERSION_RULES = (rule,) + tuple(config.CONVERSION_RULES)
