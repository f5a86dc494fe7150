"""`flowers-pipeline ingest`: the ingestion Beam job alone, photo folders -> TFRecords, like the codelab notebook."""

from __future__ import annotations

import argparse
import time

from components.artifacts import DUPLICATES_FILE, EVAL_SPLIT, REJECTED_FILE, SPLIT_PREFIX, SUMMARY_FILE, TRAIN_SPLIT
from pipeline.commands.config_args import add_config_arguments, config_from_args

SUMMARY = "turn <data-root>/<class>/<photo> folders into train/eval TFRecords (the ingestion Beam job alone)"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", required=True,
                        help=f"new folder for {SPLIT_PREFIX}{TRAIN_SPLIT}/, {SPLIT_PREFIX}{EVAL_SPLIT}/, "
                             f"{REJECTED_FILE}, {SUMMARY_FILE}")
    parser.add_argument("--previous-output-dir", metavar="DIR",
                        help="an earlier ingest output (only read) whose images are reused for unchanged photos; "
                             "the output is the same as without it")
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, check_model=False)  # Nothing is trained: only the data settings matter.
    from components.errors import printable
    from components.ingestion import IngestSettings, run_ingest
    from pipeline.beam_args import check_beam_args, local_beam_args

    check_beam_args(local_beam_args(config))
    data = config.data
    print(f"Ingesting {printable(data.data_root)} -> {printable(args.output_dir)} "
          f"({data.image_size}x{data.image_size}, eval fraction {data.eval_fraction:g})", flush=True)
    start = time.monotonic()
    summary = run_ingest(data_root=data.data_root, output_dir=args.output_dir,
                         settings=IngestSettings.from_dict(data.to_dict()),
                         beam_args=local_beam_args(config), previous_dir=args.previous_output_dir)
    print(format_ingest_summary(summary, printable(args.output_dir), time.monotonic() - start))
    return 0


def format_ingest_summary(summary: dict, output_dir: str, seconds: float) -> str:
    """Where the outputs are and the counts, per split and class."""
    lines = [f"Done in {seconds:.1f} s: {summary['seen']} photos seen, "
             f"{summary['seen'] - summary['rejected']} written ({summary['reused']} with a reused image), "
             f"{summary['rejected']} rejected, "
             f"{summary['ignored']} ignored."]
    for split_name, per_class in summary["written"].items():
        counts = ", ".join(f"{label} {n}" for label, n in per_class.items())
        lines.append(f"  {split_name:<5} {sum(per_class.values()):>6} records  ({counts})  "
                     f"-> {output_dir}/{SPLIT_PREFIX}{split_name}/")
    for reason, n in summary["rejected_by_reason"].items():
        lines.append(f"  rejected: {reason}: {n}")
    lines.append(f"  rejected and ignored paths: {output_dir}/{REJECTED_FILE}")
    duplicates = summary["duplicates"]
    if duplicates["groups"]:
        lines.append(f"  byte-identical photos: {duplicates['groups']} group(s), {duplicates['extra_copies']} extra "
                     f"cop(ies), {duplicates['groups_with_conflicting_labels']} under two or more labels: "
                     f"{output_dir}/{DUPLICATES_FILE}")
    lines.append(f"  summary: {output_dir}/{SUMMARY_FILE}")
    return "\n".join(lines)
