"""The config flags shared by every command that builds the pipeline (run, compile, submit, schedule)."""

from __future__ import annotations

import argparse

import pipeline_config

# Flag -> dotted config field: shortcuts for the most used `--set` overrides.
SHORTCUTS = {
    "data_root": "data.data_root",
    "pipeline_root": "pipeline_root",
    "serving_dir": "serving_dir",
    "model": "training.model",
    "weights": "training.weights",
    "epochs": "training.epochs",
    "min_accuracy": "gate.min_accuracy",
    "max_accuracy_drop": "gate.max_accuracy_drop",
}


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (defaults < FLOWERS_* environment variables < flags)")
    group.add_argument("--data-root", help="folder of <class>/<photo> files, local or gs://")
    group.add_argument("--pipeline-root", help="where artifacts and ML Metadata live")
    group.add_argument("--serving-dir", help="where blessed models are pushed")
    group.add_argument("--model", help="registered model name (see `flowers-pipeline models`)")
    group.add_argument("--weights", help="backbone weights: imagenet, none or a .h5 file")
    group.add_argument("--epochs", help="training epochs")
    group.add_argument("--min-accuracy", help="gate: lowest eval accuracy that can be blessed")
    group.add_argument("--max-accuracy-drop", help="gate: largest accuracy drop allowed against the baseline")
    group.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                       help="any config field by its dotted name, e.g. training.batch_size=32 (repeatable)")


def config_from_args(args: argparse.Namespace, *, weights_read_here: bool = False) -> pipeline_config.PipelineConfig:
    """Defaults, environment, then these flags; raises ConfigError naming the field before anything runs.

    `weights_read_here`: the Trainer runs on this machine (`run`), so a weights file must be readable here.
    """
    overrides = {field: getattr(args, flag) for flag, field in SHORTCUTS.items()
                 if getattr(args, flag, None) is not None}
    overrides.update(pipeline_config.parse_assignments(args.set))
    config = pipeline_config.load_config(overrides)
    check_model_choice(config.training, weights_read_here)
    return config


def check_model_choice(training: pipeline_config.TrainingConfig, weights_read_here: bool) -> None:
    """The model is a registered one; a weights file read here is a MobileNetV2 .h5 backbone of a known width.

    Checked before anything runs, not in the Trainer, so a typo fails in a second instead of after ingestion.
    """
    from components.errors import UserError
    from components.training import models
    from components.training.models.mobilenet_v2 import resolve_alpha

    try:
        models.builder(training.model)
        if weights_read_here:
            resolve_alpha(training.weights, training.alpha)
    except UserError as error:
        raise pipeline_config.ConfigError(str(error)) from None


def positive_int(text: str) -> int:
    """argparse type of a count flag: `--batch-size 0` is a one-line usage error, not a traceback."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value
