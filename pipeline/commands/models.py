"""`flowers-pipeline models`: the registered models and their size at the configured image size."""

from __future__ import annotations

import argparse

SUMMARY = "list the registered models with their parameter counts at the configured image size"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="config override, e.g. data.image_size=224 or training.weights=none (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Builds each model without loading weights (the weights file only decides MobileNetV2's width)."""
    import pipeline_config
    from components.training import models
    from components.training.models.mobilenet_v2 import resolve_alpha

    config = pipeline_config.load_config(pipeline_config.parse_assignments(args.set))
    training, size, classes = config.training, config.data.image_size, len(config.data.classes)
    print(f"{'model':<14} {'parameters':>12} {'trainable':>11}  ({size}x{size}x3, {classes} classes)")
    for name in models.names():
        alpha = resolve_alpha(training.weights, training.alpha) if name == "mobilenet_v2" else 0.0
        model = models.build(name, models.ModelSpec(size, classes, "none", alpha, training.dropout))
        trainable = sum(w.shape.num_elements() for w in model.trainable_weights)
        width = f" [alpha {alpha}]" if alpha else ""
        print(f"{name:<14} {model.count_params():>12,} {trainable:>11,}  {models.description(name)}{width}")
    return 0
