"""`flowers-pipeline schedule`: recurring retraining runs on Vertex AI Pipelines, and their management.

`schedule --cron EXPR ...` creates (compiling first unless --template); `schedule list`, and
`schedule pause|resume|delete NAME` act on existing schedules by id or resource name.
"""

from __future__ import annotations

import argparse

from pipeline.commands import cloud_args
from pipeline.commands.config_args import config_from_args

SUMMARY = "schedule recurring runs on Vertex AI (--cron), or list|pause|resume|delete schedules"
ACTIONS = ("create", "list", "pause", "resume", "delete")
PAST_TENSE = {"pause": "paused", "resume": "resumed", "delete": "deleted"}


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=ACTIONS, default="create", help="default: create")
    parser.add_argument("name", nargs="?", help="schedule id or resource name (pause, resume, delete)")
    group = parser.add_argument_group("schedule")
    group.add_argument("--cron", help='when runs start, e.g. "0 3 * * 1" (Mondays 03:00 UTC) or '
                                      '"TZ=Europe/Paris 0 3 * * 1"')
    group.add_argument("--display-name", help="schedule name (default <pipeline_name>-schedule)")
    group.add_argument("--max-concurrent", type=int, default=1, help="runs allowed at once (default 1)")
    group.add_argument("--start", help="first possible run, RFC 3339 (default: now)")
    group.add_argument("--end", help="no runs after this time, RFC 3339 (default: never)")
    cloud_args.add_cloud_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from components.errors import UserError

    if args.action == "create":
        if args.name:
            raise UserError(f"unexpected argument {args.name!r}: `schedule` creates from --cron; "
                            f"name a schedule only with pause, resume or delete")
        return _create(args)
    if args.action != "list" and not args.name:
        raise UserError(f"schedule {args.action} needs the schedule id or resource name (see `schedule list`)")
    return _manage(args)


def _create(args: argparse.Namespace) -> int:
    from components.errors import UserError
    from pipeline.vertex import jobs

    if not args.cron:
        raise UserError('schedule needs --cron, e.g. --cron "0 3 * * 1"')
    request = jobs.schedule_request(cloud_args.run_request_from_args(args), cron=args.cron,
                                    display_name=args.display_name, max_concurrent_run_count=args.max_concurrent,
                                    start_time=args.start, end_time=args.end)
    if args.dry_run:
        cloud_args.print_json(jobs.describe_schedule(request))
        return 0
    name = jobs.create_schedule(request, jobs.default_credentials())
    print(f"created schedule {name} ({request.cron})")
    return 0


def _manage(args: argparse.Namespace) -> int:
    from pipeline.vertex import jobs
    from pipeline.vertex.runner import require_project

    config = config_from_args(args)
    require_project(config)
    where = {"project": config.vertex.project, "location": config.vertex.region}
    if args.dry_run:
        cloud_args.print_json({"action": args.action, "schedule": args.name, **where})
        return 0
    credentials = jobs.default_credentials()
    if args.action == "list":
        cloud_args.print_json(jobs.list_schedules(credentials=credentials, **where))
        return 0
    name = jobs.change_schedule(args.action, args.name, credentials=credentials, **where)
    print(f"{PAST_TENSE[args.action]} {name}")
    return 0
