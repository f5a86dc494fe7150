"""`flowers-pipeline run`: the whole pipeline on this machine, then its summary and HTML report."""

from __future__ import annotations

import argparse
import time

from pipeline.commands.config_args import add_config_arguments, config_from_args

SUMMARY = "Run the whole pipeline locally (LocalDagRunner, SQLite ML Metadata, Beam DirectRunner)."


def add_parser(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, weights_read_here=True)  # Fails here, naming the field, before anything runs.
    from components.errors import printable
    from components.report import collect_run, format_summary, write_report
    from pipeline.local_runner import check_local_run, new_run_id, run_local
    from pipeline.root_lock import exclusive_run

    check_local_run(config)
    with exclusive_run(config.pipeline_root):  # A second run on this root is refused here, before any work.
        print(f"Pipeline '{config.pipeline_name}': data {printable(config.data.data_root)}, "
              f"root {printable(config.pipeline_root)}")
        start, run_id = time.monotonic(), new_run_id()
        try:
            run_local(config, run_id=run_id)
        finally:  # Also after a failure: the summary says how far this run got and why it stopped.
            record = collect_run(config.metadata_path, config.pipeline_name, config.pipeline_root, run_id=run_id)
            if record.run_id:  # Nothing to report when the run stopped before its first component.
                print(format_summary(record))
                print(f"Report: {write_report(record, config.pipeline_root)}")
            print(f"Wall time: {time.monotonic() - start:.1f} s")
    return 0
