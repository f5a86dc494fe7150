"""The Trainer's `run_fn`: data, model, strategy and schedule from `custom_config`; a serving export at the end.

Steps are derived from the epochs and the record counts (the DAG passes no step counts). A fine-tuning phase
(training.fine_tune_layers and fine_tune_epochs) unfreezes the top of a pretrained backbone at a lower rate.
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import tensorflow as tf

from components.training import data, export, models, progress, schedule, strategy

log = logging.getLogger(__name__)


def run_fn(fn_args) -> None:
    """Train the configured model on `fn_args.train_files`, validate on `eval_files`, export for serving."""
    started = time.perf_counter()
    config = fn_args.custom_config
    settings = SimpleNamespace(**config["training"])
    classes, image_size = config["classes"], config["image_size"]
    tf.keras.utils.set_random_seed(settings.seed)

    placement = strategy.resolve(settings.accelerator, settings.tpu, settings.steps_per_execution)
    global_batch = settings.batch_size * placement.replicas
    train_records, eval_records = data.count_records(fn_args.train_files), data.count_records(fn_args.eval_files)
    steps_per_epoch = max(1, train_records // global_batch)
    log.info("training %s on %d records (%d steps of %d per epoch), validating on %d",
             settings.model, train_records, steps_per_epoch, global_batch, eval_records)

    train = data.train_dataset(fn_args.train_files, image_size, global_batch, settings.shuffle_buffer, settings.seed,
                               cache=data.cache_fits(train_records, image_size))
    validation = data.eval_dataset(fn_args.eval_files, image_size, global_batch)
    spec = models.ModelSpec(image_size, len(classes), settings.weights, settings.alpha, settings.dropout)
    with strategy.precision(placement.precision):
        with placement.strategy.scope():
            model = models.build(settings.model, spec)
            if settings.warm_start and fn_args.base_model:
                warm_start(model, fn_args.base_model)
            peak = schedule.scaled(settings.learning_rate, global_batch)
            compile_model(model, schedule.WarmupDecay(peak, steps_per_epoch, settings.warmup_epochs,
                                                      settings.lr_decay), placement, steps_per_epoch)
        total_epochs = settings.epochs + (settings.fine_tune_epochs if settings.fine_tune_layers else 0)
        epoch_progress = progress.EpochProgress(steps_per_epoch * global_batch, total_epochs)
        callbacks = [tf.keras.callbacks.TensorBoard(fn_args.model_run_dir), epoch_progress]
        fit = dict(x=train, steps_per_epoch=steps_per_epoch, validation_data=validation, callbacks=callbacks,
                   verbose=0)
        model.fit(epochs=settings.epochs, **fit)
        if settings.fine_tune_layers and settings.fine_tune_epochs and unfreeze_top(model, settings.fine_tune_layers):
            with placement.strategy.scope():
                compile_model(model, schedule.scaled(settings.fine_tune_learning_rate, global_batch), placement,
                              steps_per_epoch)
            model.fit(initial_epoch=settings.epochs, epochs=total_epochs, **fit)
        export.export(model, classes, image_size, fn_args.serving_model_dir, _save_options(placement),
                      max_image_pixels=config["max_image_pixels"], warmup_records=fn_args.eval_files)

    progress.write_history(fn_args.model_run_dir, {
        "model": settings.model, "strategy": placement.kind, "replicas": placement.replicas,
        "global_batch_size": global_batch, "steps_per_epoch": steps_per_epoch, "train_records": train_records,
        "eval_records": eval_records, "params": model.count_params(),
        "wall_seconds": time.perf_counter() - started}, epoch_progress.epochs)


def compile_model(model: tf.keras.Model, learning_rate, placement: strategy.Placement, steps_per_epoch: int) -> None:
    """Adam on sparse cross-entropy; the train step is XLA-compiled on accelerators (TPUs always compile)."""
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=placement.jit_compile,
                  steps_per_execution=min(placement.steps_per_execution, steps_per_epoch))


def unfreeze_top(model: tf.keras.Model, layers: int) -> bool:
    """Make the top `layers` of the pretrained backbone (the nested Keras model) trainable, batch norms
    excepted; False when the model has no backbone (squeezenet trains every layer from the start)."""
    backbones = [layer for layer in model.layers if isinstance(layer, tf.keras.Model)]
    if not backbones:
        log.warning("training.fine_tune_layers ignored: %s has no pretrained backbone", model.name)
        return False
    backbone = backbones[0]
    backbone.trainable = True
    for index, layer in enumerate(backbone.layers):
        top = index >= len(backbone.layers) - layers
        layer.trainable = top and not isinstance(layer, tf.keras.layers.BatchNormalization)
    log.info("fine-tuning the top %d layers of %s", layers, backbone.name)
    return True


def warm_start(model: tf.keras.Model, base_model: str) -> None:
    """Start from the weights of a previous serving model of the same architecture (matched by name, not order)."""
    try:
        model.load_weights(tf.io.gfile.join(base_model, "variables", "variables")).expect_partial()
        log.info("warm start from %s", base_model)
    except (ValueError, tf.errors.OpError) as error:
        log.warning("warm start skipped: %s does not fit %s (%s)", base_model, model.name, error)


def _save_options(placement: strategy.Placement) -> tf.saved_model.SaveOptions | None:
    """On TPU the variables live on the TPU workers; gather them through the local host when saving."""
    return tf.saved_model.SaveOptions(experimental_io_device="/job:localhost") if placement.kind == "tpu" else None
