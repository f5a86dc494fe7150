"""`flowers-pipeline run`: the whole pipeline on this machine, then its summary, HTML report and outcome.

The exit status and the last line say how the run ended (see pipeline/outcome.py): 0 blessed, 3 refused by the
gate, 4 stopped by a data check, 1 failed, 2 invalid setting.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from components.errors import UserError, printable
from pipeline.commands.config_args import add_config_arguments, config_from_args

SUMMARY = "run the whole pipeline locally (LocalDagRunner, SQLite ML Metadata, Beam DirectRunner)"


def add_parser(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, weights_read_here=True)  # Fails here, naming the field, before anything runs.
    from components.report import RunRecord
    from pipeline.beam_args import check_beam_args, local_beam_args
    from pipeline.local_runner import check_local_run
    from pipeline.outcome import run_outcome
    from pipeline.root_lock import exclusive_run

    check_beam_args(local_beam_args(config))  # An unknown or malformed --beam-arg is an invalid setting.
    try:
        check_local_run(config)
        with exclusive_run(config.pipeline_root):  # A second run on this root is refused here, before any work.
            record, error = _run_and_summarize(config)
    except UserError as refused:  # Refused before the run began: the root's lock, the data root, the serving dir.
        record, error = RunRecord(config.pipeline_name, config.pipeline_root), refused
    if error is not None:
        _print_error(args.command, error)
    outcome = run_outcome(record, error)
    print(outcome.line)
    return outcome.exit_status


def _run_and_summarize(config):
    """Run the DAG, then print its summary and report; (the run's record, the error it ended with or None).
    Ctrl-C inside it becomes KeyboardInterrupt, whatever Beam or TFX wrapped it in."""
    from components.report import collect_run, format_summary, write_report
    from pipeline.interrupt import ctrl_c_as_interrupt
    from pipeline.local_runner import new_run_id, run_local

    print(f"Pipeline '{config.pipeline_name}': data {printable(config.data.data_root)}, "
          f"root {printable(config.pipeline_root)}")
    start, run_id, error = time.monotonic(), new_run_id(), None
    try:
        with ctrl_c_as_interrupt():
            run_local(config, run_id=run_id)
    except Exception as caught:  # Reported below, after the summary says how far this run got.
        error = caught
    record = collect_run(config.metadata_path, config.pipeline_name, config.pipeline_root, run_id=run_id)
    if record.run_id:  # Nothing to report when the run stopped before its first component.
        print(format_summary(record))
        print(f"Report: {write_report(record, config.pipeline_root)}")
    print(f"Wall time: {time.monotonic() - start:.1f} s", flush=True)
    return record, error


def _print_error(command: str, error: Exception) -> None:
    """A UserError is its message; anything else keeps its traceback, which is what a bug report needs."""
    if isinstance(error, UserError):
        print(f"flowers-pipeline {command}: {printable(str(error), keep_newlines=True)}", file=sys.stderr)
    else:
        traceback.print_exception(error, file=sys.stderr)
    sys.stderr.flush()
