"""`flowers-pipeline submit`: one run on Vertex AI Pipelines (compiles first unless --template)."""

from __future__ import annotations

import argparse

from pipeline.commands import cloud_args

SUMMARY = "compile (or take --template) and start one run on Vertex AI Pipelines"


def add_parser(parser: argparse.ArgumentParser) -> None:
    cloud_args.add_cloud_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pipeline.vertex import jobs

    request = cloud_args.run_request_from_args(args)
    if args.dry_run:
        cloud_args.print_json(jobs.describe_run(request))
        return 0
    name = jobs.submit(request, jobs.default_credentials())
    print(f"submitted {name}")
    return 0
