"""`flowers-pipeline compile`: the DAG as a Vertex AI Pipelines JSON, written offline."""

from __future__ import annotations

import argparse

SUMMARY = "compile the pipeline for Vertex AI Pipelines into a pipeline JSON (offline)"


def add_parser(parser: argparse.ArgumentParser) -> None:
    from pipeline.vertex.cli import add_compile_arguments

    add_compile_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pipeline.vertex import cli, jobs

    config = cli.config_from_args(args)
    template = cli.compiled_template(args, config)
    summary = jobs.spec_summary(template)
    print(f"wrote {template}: {len(summary['tasks'])} steps, accelerator {config.vertex.accelerator}, "
          f"Beam on {config.beam.runner}, images {', '.join(summary['images'])}")
    return 0
