"""The flags of `compile`, `submit` and `schedule`, and how they become a compiled pipeline and a run request.

The Vertex flags are config shortcuts like the others (config_args.VERTEX_SHORTCUTS; explicit `--set` wins), so
the environment variables and overrides of `run` work the same here.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pipeline_config
from components.errors import UserError
from pipeline.commands import config_args

# Settings a submission still uses when it sends an already compiled --template.
_SUBMISSION_FIELDS = {"vertex.project", "vertex.region", "vertex.service_account"}


def add_compile_arguments(parser: argparse.ArgumentParser) -> None:
    config_args.add_config_arguments(parser)
    group = parser.add_argument_group("Vertex AI")
    group.add_argument("--target", choices=["vertex"], default="vertex", help="where the pipeline runs")
    config_args.add_shortcuts(group, config_args.VERTEX_SHORTCUTS)
    group.add_argument("--output", metavar="FILE", help="compiled pipeline JSON (default <pipeline_name>.json)")


def add_cloud_arguments(parser: argparse.ArgumentParser) -> None:
    """`submit` and `schedule`: compile from the flags above, or send an already compiled --template."""
    add_compile_arguments(parser)
    group = parser.add_argument_group("submission")
    group.add_argument("--template", metavar="FILE", help="send this compiled pipeline instead of compiling")
    group.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="runtime parameter declared by the compiled pipeline (repeatable)")
    group.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="run label (repeatable)")
    group.add_argument("--no-cache", action="store_true", help="re-run every step instead of reusing results")
    group.add_argument("--dry-run", action="store_true",
                       help="print the request as JSON and send nothing (no credentials needed)")


def compiled_template(args: argparse.Namespace, config: pipeline_config.PipelineConfig) -> str:
    """The --template as given, or the pipeline compiled from the flags (written to --output)."""
    if getattr(args, "template", None):
        _refuse_compile_settings(args)
        return args.template
    from pipeline.vertex.runner import compile_pipeline

    output = args.output or f"{config.pipeline_name}.json"
    compile_pipeline(config, output)
    return output


def run_request_from_args(args: argparse.Namespace):
    """Config, compile (or --template), then the validated RunRequest the command sends or prints."""
    from pipeline.vertex import jobs
    from pipeline.vertex.runner import require_project

    config = config_args.config_from_args(args)
    require_project(config)
    template = compiled_template(args, config)
    return jobs.run_request(
        template_path=template, display_name=config.pipeline_name, project=config.vertex.project,
        location=config.vertex.region, pipeline_root=None if args.template else config.pipeline_root,
        parameter_values=pipeline_config.parse_assignments(args.param, "--param", "NAME=VALUE"),
        enable_caching=config.enable_cache and not args.no_cache,
        labels=pipeline_config.parse_assignments(args.label, "--label", "NAME=VALUE"),
        service_account=config.vertex.service_account)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    print()


def _refuse_compile_settings(args: argparse.Namespace) -> None:
    """A compiled template fixes the DAG: flags that would change it are refused, not silently dropped."""
    given = [s.flag for s in config_args.given_shortcuts(args) if s.field not in _SUBMISSION_FIELDS]
    given += [f"--set {item}" for item in args.set if item.partition("=")[0].strip() not in _SUBMISSION_FIELDS]
    if args.output:
        given.append("--output")
    if given:
        raise UserError(f"--template sends a compiled pipeline, so {', '.join(given)} would not apply; "
                        f"drop --template to recompile with them")
