"""`flowers-pipeline report`: the HTML report of the latest run, read from ML Metadata."""

from __future__ import annotations

import argparse
import os

from components.errors import UserError
from pipeline.commands.config_args import add_config_arguments, config_from_args

SUMMARY = "write the HTML report of the latest run (from ML Metadata) and print its path"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="folder for run_report.html (default: the pipeline root)")
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, check_model=False)  # Reads a finished run: nothing is built.
    if not os.path.exists(config.metadata_path):
        raise UserError(f"no ML Metadata at {config.metadata_path}: run `flowers-pipeline run` first, "
                        "or pass --pipeline-root")
    from components.report import collect_run, format_summary, write_report
    from pipeline.local_runner import glob_free_root
    from pipeline.root_lock import in_use

    glob_free_root(config.pipeline_root)  # The link its artifacts were written through, if the root needs one.
    record = collect_run(config.metadata_path, config.pipeline_name, config.pipeline_root,
                         in_progress=in_use(config.pipeline_root))
    if not record.run_id:
        raise UserError(f"no run of pipeline '{config.pipeline_name}' in {config.metadata_path}")
    print(format_summary(record))
    print(write_report(record, args.out or config.pipeline_root))
    return 0
