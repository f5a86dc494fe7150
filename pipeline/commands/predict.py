"""`flowers-pipeline predict`: label photos with an exported or pushed model."""

from __future__ import annotations

import argparse
import json

SUMMARY = "label photos with an exported model (a serving dir of numbered versions uses the newest)"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", required=True, help="a SavedModel, or a serving dir of numbered versions")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text: 'PATH: LABEL PROBABILITY'; json: one object per line")
    parser.add_argument("--batch-size", type=int, default=64, help="photos per model call")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="photo files (any size; JPEG, PNG, ...)")


def run(args: argparse.Namespace) -> int:
    """Print one line per image, in order, as each batch is answered; exit status 1 if any image could not be
    answered."""
    from components.training.predict import Predictor

    failed = False
    for prediction in Predictor(args.model_dir).predict(args.images, args.batch_size):
        print(json.dumps(prediction.as_dict()) if args.format == "json" else _text(prediction), flush=True)
        failed = failed or bool(prediction.error)
    return 1 if failed else 0


def _text(prediction) -> str:
    if prediction.error:
        return f"{prediction.path}: error: {prediction.error}"
    return f"{prediction.path}: {prediction.label} {prediction.probability:.3f}"
