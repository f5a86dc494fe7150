"""Helpers for the Pusher tests: real, tiny exported models (the serving check loads and runs each candidate)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

CLASSES = ["daisy", "roses"]
SIZE = 8


def export_tiny(directory: str, seed: int, photos: list[bytes], broken_photo_signature=None) -> str:
    """A Keras model exported like the Trainer's, with `photos` as its warmup requests. `broken_photo_signature`
    (model -> tf.function) replaces serving_default, as a bug in the export would."""
    import tensorflow as tf

    from components.artifacts import PHOTO_SIGNATURE
    from components.training import export

    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input((SIZE, SIZE, 3)), tf.keras.layers.Conv2D(4, 3),
                                 tf.keras.layers.GlobalAveragePooling2D(),
                                 tf.keras.layers.Dense(len(CLASSES), activation="softmax")])
    signatures = export.signatures(model, CLASSES, SIZE)
    if broken_photo_signature:
        signatures[PHOTO_SIGNATURE] = broken_photo_signature(model)
    model.save(directory, save_format="tf", include_optimizer=False, signatures=signatures)
    export.write_warmup_requests(directory, photos)
    return directory
