"""`flowers-pipeline label-issues`: the photos whose given label the latest run's Trainer doubts, most doubtful
first, read from its ModelRun (found through ML Metadata, as `report` finds it)."""

from __future__ import annotations

import argparse
import os

from components.artifacts import HISTORY_FILE, LABEL_ISSUES_FILE
from components.errors import UserError, printable
from pipeline.commands.config_args import add_config_arguments, config_from_args

SUMMARY = "print the photos whose label the latest run's Trainer doubts (confident learning), most doubtful first"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, help="print at most this many (default 50; 0 = all)")
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, check_model=False)  # Reads a finished run: nothing is built.
    if args.limit < 0:
        raise UserError(f"--limit {args.limit}: must be 0 (all) or more")
    if not os.path.exists(config.metadata_path):
        raise UserError(f"no ML Metadata at {config.metadata_path}: run `flowers-pipeline run` first, "
                        "or pass --pipeline-root")
    from components.report import collect_run
    from components.json_files import read_json, read_jsonl
    from pipeline.local_runner import glob_free_root

    glob_free_root(config.pipeline_root)
    record = collect_run(config.metadata_path, config.pipeline_name, config.pipeline_root)
    if not record.training.run_uri:
        raise UserError(f"the latest run of pipeline '{config.pipeline_name}' in {config.metadata_path} has no "
                        "Trainer output")
    review = (read_json(os.path.join(record.training.run_uri, HISTORY_FILE)) or {}).get("data_review")
    if review != "done":
        print(f"no label issues for run {record.run_id}: the Trainer's data review was "
              f"{review or 'not run (a Trainer from before it)'}")
        return 0
    issues = read_jsonl(os.path.join(record.training.run_uri, LABEL_ISSUES_FILE), args.limit or 2**63)
    print(format_issues(issues, record.run_id))
    return 0


def format_issues(issues: list[dict], run_id: str) -> str:
    """A header, then one line a photo: the probability of its given label, its split, given -> suggested, path."""
    lines = [f"{len(issues)} label issue(s) listed for run {run_id} (score: the held-out probability of the "
             "given label)", f"{'score':>6}  {'split':<6} {'given -> suggested':<26} path"]
    lines += [f"{issue['score']:>6.3f}  {issue['split']:<6} {issue['given'] + ' -> ' + issue['suggested']:<26} "
              f"{printable(issue['path'])}" for issue in issues]
    return "\n".join(lines)
