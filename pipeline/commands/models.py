"""`flowers-pipeline models`: the registered models and their size at the configured image size."""

from __future__ import annotations

import argparse

from pipeline.commands.config_args import add_config_arguments, config_from_args

SUMMARY = "list the registered models with their parameter counts at the configured image size"


def add_parser(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Builds each model without loading weights (the weights file only decides MobileNetV2's width)."""
    config = config_from_args(args, check_model=False)  # Every registered model is listed, whatever is chosen.
    from components.training import models
    from components.training.models.mobilenet_v2 import resolve_alpha

    training, size, classes = config.training, config.data.image_size, len(config.data.classes)
    print(f"{'model':<14} {'parameters':>12} {'trainable':>11}  ({size}x{size}x3, {classes} classes)")
    for name in models.names():
        alpha = resolve_alpha(training.weights, training.alpha) if name == "mobilenet_v2" else 0.0
        model = models.build(name, models.ModelSpec(size, classes, "none", alpha, training.dropout))
        trainable = sum(w.shape.num_elements() for w in model.trainable_weights)
        width = f" [alpha {alpha}]" if alpha else ""
        print(f"{name:<14} {model.count_params():>12,} {trainable:>11,}  {models.description(name)}{width}")
    return 0
