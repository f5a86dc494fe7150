"""`flowers-pipeline predict`: label photos with an exported or pushed model, file by file or as a Beam job."""

from __future__ import annotations

import argparse
import json

from pipeline.commands.config_args import positive_int

SUMMARY = "label photos with an exported model (a serving dir of numbered versions uses the newest)"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", required=True, help="a SavedModel, or a serving dir of numbered versions")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text: 'PATH: LABEL PROBABILITY'; json: one object per line (without --output-dir)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="photos per model call")
    parser.add_argument("--min-confidence", type=min_confidence, metavar="P|auto",
                        help="answer 'unsure' when the top probability is below P (0 to 1); 'auto' uses the threshold "
                             "the Trainer chose for the version (the one reaching gate.target_accuracy on eval)")
    parser.add_argument("--output-dir", help="run a Beam batch job instead and write JSON-lines shards of "
                                             "predictions and errors plus summary.json here (local or gs://); "
                                             "a folder that already holds files is refused unless --overwrite")
    parser.add_argument("--overwrite", action="store_true",
                        help="with --output-dir: replace the results already there (only on success)")
    parser.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                        help="with --output-dir: Beam pipeline option, repeatable, written with '=': "
                             "--beam-arg=--runner=DataflowRunner")
    parser.add_argument("images", nargs="+", metavar="PATH",
                        help="photo files (any size; JPEG, PNG, ...); with --output-dir also folders (searched "
                             "recursively) and globs, local or gs://")


def run(args: argparse.Namespace) -> int:
    """Per file: one line per image, in order, as each batch is answered. Batch: the job's summary. Exit
    status 1 if any image could not be answered."""
    from pipeline.interrupt import ctrl_c_as_interrupt

    with ctrl_c_as_interrupt():
        if args.output_dir is not None:
            return _run_batch(args)
        from components.training.predict import Predictor

        failed = False
        for prediction in Predictor(args.model_dir, min_confidence=args.min_confidence).predict(
                args.images, args.batch_size):
            print(json.dumps(prediction.as_dict()) if args.format == "json" else _text(prediction), flush=True)
            failed = failed or bool(prediction.error)
        return 1 if failed else 0


def _run_batch(args: argparse.Namespace) -> int:
    from components.errors import ConfigError
    from components.training.batch_predict import run_batch_prediction
    from pipeline.beam_args import check_beam_args

    if not args.output_dir.strip():
        raise ConfigError("--output-dir: must not be empty (leave it out to predict file by file)")
    check_beam_args(args.beam_arg)
    summary = run_batch_prediction(args.model_dir, args.images, args.output_dir, args.beam_arg, args.batch_size,
                                   overwrite=args.overwrite, min_confidence=args.min_confidence)
    print(f"{summary['seen']} files: {summary['predicted']} predicted ({summary['predictions']}), "
          f"{summary['errors']} errors ({summary['error_files']}); model {summary['model_dir']}")
    return 1 if summary["errors"] else 0


def _text(prediction) -> str:
    from components.errors import printable
    from components.text import threshold_text

    if prediction.error:
        return f"{printable(prediction.path)}: error: {printable(str(prediction.error))}"
    if prediction.unsure:
        return (f"{printable(prediction.path)}: unsure (best guess {prediction.label} {prediction.probability:.3f}, "
                f"below {threshold_text(prediction.min_confidence)})")
    return f"{printable(prediction.path)}: {prediction.label} {prediction.probability:.3f}"


def min_confidence(text: str) -> float | str:
    """`auto`, or a probability in [0, 1]."""
    from components.training.predict import AUTO

    if text == AUTO:
        return AUTO
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a probability from 0 to 1 nor 'auto'")
    return value
