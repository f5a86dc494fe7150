"""`flowers-pipeline compile`: the DAG as a Vertex AI Pipelines JSON, written offline."""

from __future__ import annotations

import argparse

from pipeline.commands import cloud_args
from pipeline.commands.config_args import config_from_args

SUMMARY = "compile the pipeline for Vertex AI Pipelines into a pipeline JSON (offline)"


def add_parser(parser: argparse.ArgumentParser) -> None:
    cloud_args.add_compile_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pipeline.vertex import jobs

    config = config_from_args(args)
    template = cloud_args.compiled_template(args, config)
    summary = jobs.spec_summary(template)
    print(f"wrote {template}: {len(summary['tasks'])} steps, accelerator {config.vertex.accelerator}, "
          f"Beam on {config.beam.runner}, images {', '.join(summary['images'])}")
    return 0
