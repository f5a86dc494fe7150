"""The Trainer's `run_fn`: data, model, strategy and schedule from `custom_config`; a serving export at the end.

Steps are derived from the epochs and the record counts (the DAG passes no step counts). Two phases: the head
alone on a frozen backbone (training.epochs), then, when the recipe fine-tunes (`recipe.fine_tuning`), the top
of the backbone with the head at a lower rate. A model built in parts (`models/parts.py`) runs its frozen
part once and trains on the cached activations (`features.py`), kept in memory or spilled to local disk
(`features.plan`); any other model trains end to end.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import tensorflow as tf

from components.artifacts import EVAL_SPLIT, TRAIN_SPLIT
from components.training import (calibration, data, data_issues, data_review, divergence, export, feature_store,
                                 features, frozen_pass, models, progress, recipe, schedule, strategy)
from components.training.models import parts
from components.training.settings import TrainingSettings

log = logging.getLogger(__name__)


def run_fn(fn_args) -> None:
    """Train the configured model on `fn_args.train_files`, validate on `eval_files`, export for serving."""
    started = time.perf_counter()
    config = fn_args.custom_config
    settings = TrainingSettings.from_dict(config["training"])
    classes, image_size = config["classes"], config["image_size"]
    tf.keras.utils.set_random_seed(settings.seed)

    placement = strategy.resolve(settings.accelerator, settings.tpu, settings.steps_per_execution)
    global_batch = settings.batch_size * placement.replicas
    train_records, eval_records = data.count_records(fn_args.train_files), data.count_records(fn_args.eval_files)
    fine_tuning = recipe.fine_tuning(settings, train_records)
    run = Run(fn_args, settings, placement, global_batch, (train_records, eval_records), fine_tuning)
    log.info("training %s on %d records (%d steps of %d per epoch), validating on %d; %s",
             settings.model, train_records, run.steps_per_epoch, global_batch, eval_records, fine_tuning.describe())

    spec = models.ModelSpec(image_size, len(classes), fine_tuning.layers)
    with strategy.precision(placement.precision):
        with placement.strategy.scope():
            model = models.build(settings.model, spec, settings.options())
            if settings.warm_start and fn_args.base_model:
                warm_start(model, fn_args.base_model)
        model_parts = parts.of(model)
        cache_plan = run.cache_plan(model_parts)
        if cache_plan.kind == features.OFF:
            eval_probabilities = run.end_to_end(model)
        else:
            with feature_store.open_store(cache_plan.kind, settings.shuffle_buffer) as store:
                eval_probabilities = run.on_features(model_parts, run.cache(model_parts, store))
        if run.temperature:
            with placement.strategy.scope():
                model = parts.with_temperature(model, run.temperature.value)
        export.export(model, classes, image_size, fn_args.serving_model_dir, _save_options(placement),
                      max_image_pixels=config["max_image_pixels"], warmup_records=fn_args.eval_files)

    eval_labels = data.read_labels(fn_args.eval_files)
    if run.review:
        progress.write_review(fn_args.model_run_dir, run.review,
                              run.review.calibration(run.temperature, eval_probabilities, eval_labels))
        eval_probabilities = run.temperature.apply(eval_probabilities)
    progress.write_confidence(fn_args.serving_model_dir, calibration.confidence_record(
        eval_probabilities, eval_labels, classes, config["target_accuracy"]))
    progress.write_eval_predictions(fn_args.model_run_dir, data.read_sources(fn_args.eval_files), eval_probabilities)
    progress.write_history(fn_args.model_run_dir, {
        "model": settings.model, "strategy": placement.kind, "replicas": placement.replicas,
        "global_batch_size": global_batch, "steps_per_epoch": run.steps_per_epoch, "train_records": train_records,
        "fitted_records": run.fitted_records, "eval_records": eval_records, "params": model.count_params(),
        "feature_cache": cache_plan.kind,
        "feature_cache_reason": cache_plan.reason,
        "feature_pass": run.frozen_pass.engine if run.frozen_pass else None,
        "feature_pass_reason": run.frozen_pass.reason if run.frozen_pass else None,
        "fine_tune_layers": fine_tuning.layers if fine_tuning.epochs else 0,
        "data_review": run.review_note, "data_review_seconds": run.review_seconds,
        "data_review_head_eval_accuracy": run.review.head_eval_accuracy if run.review else None,
        "wall_seconds": time.perf_counter() - started}, run.progress.epochs)


class Run:
    """One training run's settings and progress, shared by its phases."""

    def __init__(self, fn_args, settings: TrainingSettings, placement: strategy.Placement, global_batch: int,
                 records: tuple[int, int], fine_tuning: recipe.FineTuning):
        self.fn_args, self.settings, self.placement = fn_args, settings, placement
        self.global_batch, self.fine_tuning = global_batch, fine_tuning
        self.train_records, self.eval_records = records
        self.total_epochs = settings.epochs + fine_tuning.epochs
        self._train_on(self.train_records)
        self.review: data_review.Review | None = None
        self.temperature: calibration.Temperature | None = None  # The exported model's.
        self.review_note = ("skipped: no cached pooled features (the model is not built in parts, or the feature "
                            "cache is off or would not fit)")
        self.review_seconds = 0.0
        self.frozen_pass: frozen_pass.FrozenPass | None = None  # How the feature cache was computed, if it was.

    def _train_on(self, records: int) -> None:
        """Both phases' steps and progress for `records` train photos (fewer than the split's when some are held
        out for calibration)."""
        self.fitted_records = records
        self.steps_per_epoch = max(1, records // self.global_batch)
        self.progress = progress.EpochProgress(self.steps_per_epoch * self.global_batch, self.total_epochs)
        self.callbacks = [tf.keras.callbacks.TensorBoard(self.fn_args.model_run_dir), self.progress,
                          divergence.FailOnNonFiniteLoss()]

    def cache_plan(self, model_parts: parts.Parts | None) -> features.CachePlan:
        """Where the frozen part's activations go (features.plan), logged with its reason."""
        needed = 0
        if model_parts is not None:
            needed = features.cache_bytes(self.train_records, self.eval_records,
                                          features.output_shape(model_parts.frozen))
        cache_plan = features.plan(self.settings.feature_cache, model_parts is not None, needed,
                                   self.settings.feature_cache_max_bytes, feature_store.free_scratch_bytes())
        log.log(logging.WARNING if needed and cache_plan.kind == features.OFF else logging.INFO,
                "feature cache %s: %d train photos x %d views and %d eval photos: %s", cache_plan.kind,
                self.train_records, features.TRAIN_VIEWS, self.eval_records, cache_plan.reason)
        return cache_plan

    def cache(self, model_parts: parts.Parts, store) -> features.Cached:
        """The frozen part's activations, in `store`."""
        started = time.perf_counter()
        with self.placement.strategy.scope():
            model_parts.frozen.compile(jit_compile=self.placement.jit_compile)
        self.frozen_pass = frozen_pass.choose(
            model_parts.frozen, self.placement, self.global_batch, self.settings.tflite_feature_pass,
            views=self.train_records * features.TRAIN_VIEWS + self.eval_records,
            min_views=self.settings.tflite_feature_pass_min_views)
        log.info("feature pass on %s: %s", self.frozen_pass.engine, self.frozen_pass.reason)
        cached = features.compute(self.frozen_pass.run, features.output_shape(model_parts.frozen),
                                  self.fn_args.train_files, self.fn_args.eval_files,
                                  self.fn_args.custom_config["image_size"], self.global_batch, store)
        log.info("feature cache: %d train photos x %d views and %d eval photos through the frozen part in %.1f s, "
                 "in %s", len(cached.train_labels), features.TRAIN_VIEWS, len(cached.eval_labels),
                 time.perf_counter() - started, store.kind)
        return cached

    def on_features(self, model_parts: parts.Parts, cached: features.Cached) -> np.ndarray:
        """Head on pooled features (the tuned part run once, still frozen), then tuned part and head on the
        cached activations; the eval photos' probabilities at the end."""
        batch, seed = self.global_batch, self.settings.seed
        pooled = features.predict(model_parts.tuned, cached.train, batch).reshape(
            len(cached.train_labels), cached.train.views, -1)
        pooled_eval = features.predict(model_parts.tuned, cached.eval, batch)
        self._review(model_parts.head, pooled, pooled_eval, cached)
        held_out = self._calibration_holdout(model_parts)
        kept = None if held_out is None else ~held_out
        self._fit(model_parts.head, self._frozen_rate(),
                  features.train_dataset(pooled, cached.train_labels, batch, seed, kept),
                  features.eval_dataset(pooled_eval, cached.eval_labels, batch), 0, self.settings.epochs)
        if not self._fine_tunes(model_parts):
            return features.predict(model_parts.head, pooled_eval, batch)
        with self.placement.strategy.scope():
            cut = tf.keras.Input(cached.eval.shape)
            upper = tf.keras.Model(cut, model_parts.head(model_parts.tuned(cut, training=False)))
        self._fit(upper, self._fine_tune_rate(),
                  features.train_dataset(cached.train, cached.train_labels, batch, seed, kept),
                  features.eval_dataset(cached.eval, cached.eval_labels, batch), self.settings.epochs,
                  self.total_epochs)
        if held_out is not None:
            self._fit_temperature(features.predict_photos(upper, cached.train, held_out, batch),
                                  cached.train_labels[held_out])
        return features.predict(upper, cached.eval, batch)

    def _calibration_holdout(self, model_parts: parts.Parts) -> np.ndarray | None:
        """The train photos kept out of both phases to fit the exported model's temperature on, when it will be
        fine-tuned (the review's out-of-fold heads are not, and under-correct it): one fold of
        round(1 / training.calibration_holdout), dealt as the review deals its folds; None otherwise."""
        if not (self.review and self.settings.calibration_holdout and self.fine_tuning.epochs
                and model_parts.fine_tunable):
            return None
        held_out = data.read_folds(self.fn_args.train_files, round(1 / self.settings.calibration_holdout)) == 0
        if held_out.all() or not held_out.any():
            return None
        self._train_on(int((~held_out).sum()))
        log.info("calibration: %d of %d train photos held out of training to fit the temperature on",
                 held_out.sum(), len(held_out))
        return held_out

    def _fit_temperature(self, probabilities: np.ndarray, labels: np.ndarray) -> None:
        self.temperature = calibration.Temperature.fitted(
            calibration.log_probabilities(probabilities), labels, f"{len(labels)} train photos held out of training")
        log.info("temperature %.3f fitted on %s (the out-of-fold heads' %.3f)", self.temperature.value,
                 self.temperature.fitted_on, self.review.temperature.value)

    def _review(self, head: tf.keras.Model, train_views: np.ndarray, eval_features: np.ndarray,
                cached: features.Cached) -> None:
        """Label issues, near-duplicates and the temperature from the pooled features (`data_review`)."""
        if parts.softmax_output(head) is None:
            self.review_note = "skipped: the head does not end in a softmax Dense, so no temperature can be baked in"
            return
        started = time.perf_counter()
        train_files, eval_files = self.fn_args.train_files, self.fn_args.eval_files
        dropout = sum(layer.rate for layer in head.layers if isinstance(layer, tf.keras.layers.Dropout))
        recipe = data_issues.HeadRecipe(self.settings.epochs, self.global_batch, self._frozen_rates, dropout,
                                        self.settings.seed)
        self.review = data_review.review(
            data_review.Photos(TRAIN_SPLIT, train_views, cached.train_labels, data.read_sources(train_files)),
            data_review.Photos(EVAL_SPLIT, eval_features[:, None], cached.eval_labels, data.read_sources(eval_files)),
            data.read_folds(train_files, self.settings.data_review_folds), self.fn_args.custom_config["classes"],
            recipe)
        self.review_seconds, self.review_note = time.perf_counter() - started, "done"
        self.temperature = self.review.temperature
        log.info("data review in %.1f s: %d label issues, near-duplicate pairs %s, temperature %.3f, NumPy head's "
                 "eval accuracy %.3f", self.review_seconds, len(self.review.label_issues), self.review.counts(),
                 self.review.temperature.value, self.review.head_eval_accuracy)

    def end_to_end(self, model: tf.keras.Model) -> np.ndarray:
        """Both phases on decoded photos, with the codelab's augmentation; the eval photos' probabilities."""
        files, image_size, batch = self.fn_args.train_files, self.fn_args.custom_config["image_size"], self.global_batch
        train = data.train_dataset(files, image_size, batch, self.settings.shuffle_buffer, self.settings.seed,
                                   cache=data.cache_fits(self.train_records, image_size,
                                                        self.settings.feature_cache_max_bytes))
        validation = data.eval_dataset(self.fn_args.eval_files, image_size, batch)
        self._fit(model, self._frozen_rate(), train, validation, 0, self.settings.epochs)
        model_parts = parts.of(model)
        if model_parts is None:
            if self.fine_tuning.epochs:
                log.warning("fine-tuning skipped: %s has no pretrained backbone", model.name)
        elif self._fine_tunes(model_parts):
            self._fit(model, self._fine_tune_rate(), train, validation, self.settings.epochs, self.total_epochs)
        return model.predict(validation, verbose=0)

    def _fine_tunes(self, model_parts: parts.Parts) -> bool:
        """Unfreeze the tuned part (batch norms too: it runs in inference mode, so only their scale and bias,
        which hold the folded biases of a rebuilt backbone, can move) when the recipe fine-tunes."""
        if not (self.fine_tuning.epochs and model_parts.fine_tunable):
            return False
        model_parts.tuned.trainable = True
        log.info("fine-tuning the top %d backbone layers for %d epochs at %.3g", self.fine_tuning.layers,
                 self.fine_tuning.epochs, self.fine_tuning.learning_rate)
        return True

    def _frozen_rate(self, steps_per_epoch: int | None = None):
        peak = schedule.scaled(self.settings.learning_rate, self.global_batch)
        return schedule.WarmupDecay(peak, steps_per_epoch or self.steps_per_epoch, self.settings.warmup_epochs,
                                    self.settings.lr_decay)

    def _frozen_rates(self, steps_per_epoch: int, epochs: int) -> np.ndarray:
        """Every step's rate of the head phase for a train set of `steps_per_epoch` (the data review's folds)."""
        return np.asarray(self._frozen_rate(steps_per_epoch)(np.arange(steps_per_epoch * epochs)), np.float64)

    def _fine_tune_rate(self):
        peak = schedule.scaled(self.fine_tuning.learning_rate, self.global_batch)
        return tf.keras.optimizers.schedules.CosineDecay(peak, self.steps_per_epoch * self.fine_tuning.epochs)

    def _fit(self, model: tf.keras.Model, learning_rate, train, validation, first_epoch: int, last_epoch: int):
        with self.placement.strategy.scope():
            compile_model(model, learning_rate, self.placement, self.steps_per_epoch)
        model.fit(train, steps_per_epoch=self.steps_per_epoch, validation_data=validation, callbacks=self.callbacks,
                  initial_epoch=first_epoch, epochs=last_epoch, verbose=0)


def compile_model(model: tf.keras.Model, learning_rate, placement: strategy.Placement, steps_per_epoch: int) -> None:
    """Adam on sparse cross-entropy; the train step is XLA-compiled on accelerators (TPUs always compile)."""
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=placement.jit_compile,
                  steps_per_execution=min(placement.steps_per_execution, steps_per_epoch))


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
