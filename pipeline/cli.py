"""The `flowers-pipeline` command: parses arguments and hands them to one subcommand module."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings

from components.errors import UserError, printable
from pipeline_config import ConfigError

# The subcommands, in the order `--help` lists them: each is a module of pipeline.commands.
COMMANDS = ("run", "ingest", "predict", "report", "label-issues", "models", "compile", "replay", "submit",
            "schedule")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowers-pipeline", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="show INFO logs of TFX, Beam and TF")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = _command_module(name)
        module.add_parser(subparsers.add_parser(name, help=module.SUMMARY, description=module.SUMMARY))
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # A non-UTF-8 file name in a message must not crash the print.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    if not args.verbose:
        _quiet_library_noise()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.root.handlers:  # Loggers opened to INFO for progress lines stay quiet here.
        handler.setLevel(level)
        if not args.verbose:
            handler.addFilter(_drop_known_noise)
    try:
        return _command_module(args.command).run(args)
    except UserError as error:  # An invalid setting (ConfigError) is refused before anything runs: status 2.
        invalid = isinstance(error, ConfigError)
        print(f"flowers-pipeline {args.command}: {'invalid setting: ' if invalid else ''}"
              f"{printable(str(error), keep_newlines=True)}", file=sys.stderr)
        return 2 if invalid else 1
    except KeyboardInterrupt:  # Ctrl-C: one line and the shell's status for SIGINT, 128 + 2.
        print(f"flowers-pipeline {args.command}: interrupted", file=sys.stderr)
        return 130


def _quiet_library_noise() -> None:
    """TensorFlow's C++ start-up chatter and the Google SDKs' Python-version warnings bury the progress lines."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Read when TensorFlow loads, which is later.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


# Warnings the libraries print on every healthy run; they say nothing a user can act on.
KNOWN_NOISE = (
    "ArtifactQuery.property_predicate is not supported",  # TFX input resolution on SQLite MLMD.
    "No training configuration found in save file",  # Loading a backbone .h5 saved without an optimizer.
    "Couldn't find python-snappy",  # Beam's pure-Python CRC fallback.
    "tf_record_iterator (from tensorflow.python.lib.io.tf_record) is deprecated",  # Inside TFMA 0.47.
    "generating an ephemeral artifact class on-the-fly",  # The drift baseline resolver's ExampleStatistics.
    "KeyboardInterrupt [while running",  # Beam logs Ctrl-C in a DoFn with a traceback; the CLI says "interrupted".
)


def _drop_known_noise(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(noise in message for noise in KNOWN_NOISE)


def _command_module(name: str):
    return importlib.import_module(f"pipeline.commands.{name.replace('-', '_')}")
