"""`flowers-pipeline models`: the registered models and their size at the configured image size."""

from __future__ import annotations

import argparse

from pipeline.commands.config_args import add_config_arguments, config_from_args

SUMMARY = "list the registered models with their parameter counts at the configured image size"


def add_parser(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Builds each model with its configured options, but without reading or downloading pretrained weights."""
    config = config_from_args(args, check_model=False)  # Every registered model is listed, whatever is chosen.
    from components.training import models

    size, classes = config.data.image_size, len(config.data.classes)
    print(f"{'model':<14} {'parameters':>12} {'trainable':>11}  ({size}x{size}x3, {classes} classes)")
    for name in models.names():
        options = config.training.options_of(name).without_downloads()
        model = models.build(name, models.ModelSpec(size, classes), options)
        trainable = sum(w.shape.num_elements() for w in model.trainable_weights)
        details = f" [{options.describe()}]" if options.describe() else ""
        print(f"{name:<14} {model.count_params():>12,} {trainable:>11,}  {models.description(name)}{details}")
    return 0
