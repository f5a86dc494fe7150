"""The config flags shared by every command that builds the pipeline (run, compile, submit, schedule)."""

from __future__ import annotations

import argparse

import pipeline_config
from components.training.settings import model_option

# Flag -> dotted config field: shortcuts for the most used `--set` overrides; `{model}` is the chosen model.
SHORTCUTS = {
    "data_root": "data.data_root",
    "pipeline_root": "pipeline_root",
    "serving_dir": "serving_dir",
    "model": "training.model",
    "weights": model_option("{model}", "weights"),
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

    `weights_read_here`: the Trainer runs on this machine (`run`), so the files the model's options name (a
    weights file) must be readable here.
    """
    from components.training import models  # Only the commands that build the pipeline import TensorFlow.

    given = {field: getattr(args, flag) for flag, field in SHORTCUTS.items() if getattr(args, flag, None) is not None}
    overrides = {field: value for field, value in given.items() if "{model}" not in field}
    overrides.update(pipeline_config.parse_assignments(args.set))
    config = pipeline_config.load_config(overrides)
    _as_config_error(models.builder, config.training.model)
    of_the_model = {field.format(model=config.training.model): value for field, value in given.items()
                    if "{model}" in field}
    if of_the_model:
        config = pipeline_config.load_config({**of_the_model, **overrides})
    if weights_read_here:
        _as_config_error(config.training.options().check_files)
    return config


def _as_config_error(check, *args) -> None:
    """Run a model check before anything runs, not in the Trainer, so a typo fails in a second instead of after
    ingestion; its UserError becomes the ConfigError the CLI reports as a usage error."""
    from components.errors import UserError

    try:
        check(*args)
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
