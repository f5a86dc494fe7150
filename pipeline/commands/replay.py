"""`flowers-pipeline replay`: run a compiled Vertex pipeline here, task by task, as Vertex would run it.

Try a template before submitting it: every task's own container command runs (this Python for the image), so
a task that cannot start on Vertex fails here too. One line per task, then the same summary, report and
`Result:` line (and exit status) as `run`. Replays in the same work dir share ML Metadata and the cache, as
the runs of one pipeline root do on Vertex.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from components.errors import printable

SUMMARY = "run a compiled Vertex pipeline on this machine, task by task, the way Vertex runs it"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", required=True, help="the PipelineJob JSON written by `compile --target vertex`")
    parser.add_argument("--workdir", required=True,
                        help="where gs:// paths, artifacts and the replay's ML Metadata live (reuse it across replays)")
    parser.add_argument("--until", metavar="TASK",
                        help="replay only TASK and the tasks it needs (e.g. Trainer, to check its CustomJob)")


def run(args: argparse.Namespace) -> int:
    from components.report import collect_run, format_summary, write_report
    from pipeline.outcome import run_outcome
    from pipeline.root_lock import exclusive_run
    from pipeline.vertex.replay import replay
    from pipeline.vertex.runner import CONTAINER_PROJECT_DIR
    from pipeline.vertex.spec import load_template
    from pipeline_config import PROJECT_DIR

    template = load_template(args.template)
    work_dir = os.path.abspath(args.workdir)
    with exclusive_run(work_dir):
        print(f"Replaying '{template.name}' ({printable(args.template)}) in {printable(work_dir)}; "
              f"the image's {CONTAINER_PROJECT_DIR} is {PROJECT_DIR}, and gs:// paths map to:", flush=True)
        start = time.monotonic()
        session = replay(template, work_dir, str(PROJECT_DIR), sys.stdout, until=args.until)
        record = collect_run(session.store.path, template.name, session.pipeline_root, run_id=session.run_id)
        print(format_summary(record))
        print(f"Report: {write_report(record, session.pipeline_root)}")
        print(f"Wall time: {time.monotonic() - start:.1f} s", flush=True)
    error = session.error()
    if error is not None:
        failed = next(r for r in session.results if r.state == "failed")
        print(f"flowers-pipeline replay: {failed.task}: {printable(str(error))} (log: "
              f"{printable(session.log_path(failed.task))})", file=sys.stderr, flush=True)
    if args.until and error is None:  # A partial replay has no gate decision to report.
        print(f"Result: replayed up to {args.until}")
        return 0
    outcome = run_outcome(record, error)
    print(outcome.line)
    return outcome.exit_status
