"""Runs the DAG on this machine: LocalDagRunner, SQLite ML Metadata under the pipeline root, Beam DirectRunner."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import glob
import hashlib
import logging
import os
import sys
import tempfile
import time
from typing import Callable, Iterator, TextIO

from absl import logging as absl_logging

from components.errors import UserError
from pipeline.beam_args import local_beam_args
from pipeline_config import PipelineConfig

ROOT_LINKS = os.path.join("~", ".cache", "flowers-pipeline", "roots")


def new_run_id() -> str:
    """The id LocalDagRunner would give the run (its start time), chosen here so the caller knows it."""
    return datetime.datetime.now().isoformat()


def check_local_run(config: PipelineConfig) -> None:
    """The checks that take seconds, before a run takes the root or writes anything: the data root is there and
    reachable, and the serving dir can be written."""
    from components.ingestion import check_data_root
    from components.push.destination import check_serving_dir

    check_data_root(config.data.data_root, config.data.classes)
    check_serving_dir(config.serving_dir)


def run_local(config: PipelineConfig, out: TextIO | None = None, run_id: str | None = None) -> str:
    """Run every component in order (after `check_local_run`), printing one line as each starts and ends;
    returns the run id (the pipeline_run context in ML Metadata), which `run_id` sets in advance; raises on
    failure."""
    from tfx import v1 as tfx
    from tfx.dsl.compiler import compiler, constants
    from tfx.orchestration.portable import runtime_parameter_utils

    import schemas
    from pipeline.pipeline import create_pipeline

    os.makedirs(config.pipeline_root, exist_ok=True)
    config = dataclasses.replace(config, pipeline_root=glob_free_root(config.pipeline_root))
    dag = create_pipeline(
        config,
        schema_file=schemas.schema_file(config.data.classes, config.data.image_size, config.pipeline_root),
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            config.metadata_path),
        beam_pipeline_args=local_beam_args(config),
    )
    run_id = run_id or new_run_id()
    ir = compiler.Compiler().compile(dag)  # What LocalDagRunner.run does, with the run id bound by us.
    runtime_parameter_utils.substitute_runtime_parameter(ir, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id})
    with ComponentProgress(lambda line: print(line, file=out or sys.stdout, flush=True)), cli_arguments_hidden():
        tfx.orchestration.LocalDagRunner().run_with_ir(ir)
    return run_id


def glob_free_root(pipeline_root: str) -> str:
    """The local pipeline root, or a link to it whose path holds no glob character (`[`, `*`, `?`).

    Beam's file sinks (TFDV's statistics, TFMA's metrics) and TFX's `<uri>/*` inputs read artifact paths as
    patterns, so `runs[1]` matched nothing. TFX then works through `~/.cache/flowers-pipeline/roots/<hash>`,
    a link named after the root's real path: the same root always gets the same link, which is (re)made here.
    """
    if "://" in pipeline_root or not glob.has_magic(os.path.abspath(pipeline_root)):
        return pipeline_root
    target = os.path.realpath(pipeline_root)
    folder = next((f for f in (os.path.expanduser(ROOT_LINKS), os.path.join(tempfile.gettempdir(), "flowers-roots"))
                   if not glob.has_magic(f)), None)
    if folder is None:
        raise UserError(f"pipeline root {pipeline_root} holds glob characters and so do HOME and TMPDIR; "
                        "set TMPDIR to a plain folder")
    link = os.path.join(folder, hashlib.sha256(os.fsencode(target)).hexdigest()[:16])
    os.makedirs(folder, exist_ok=True)
    if os.path.realpath(link) != target:
        temporary = f"{link}.{os.getpid()}"
        os.symlink(target, temporary)
        os.replace(temporary, link)  # Atomic: a concurrent reader never sees a missing link.
    return link


@contextlib.contextmanager
def cli_arguments_hidden() -> Iterator[None]:
    """The CLI's own arguments are not for the libraries: TFX's Beam executors re-parse `sys.argv` with absl
    (where `-v run` reads as `--verbosity=run`) and pass it to every executor as extra flags."""
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        yield
    finally:
        sys.argv = saved


class ComponentProgress(logging.Handler):
    """Turns LocalDagRunner's and the launcher's log records into `component: started/done (12.3 s)` lines.

    LocalDagRunner offers no callbacks; its absl INFO records are the only signal of a component starting,
    finishing or being served from cache, so this handler listens to them on the `absl` logger.
    """

    _RUNNING = "Component %s is running."
    _FINISHED = "Component %s is finished."
    _CACHED = "A cached execution %d is used."
    _SKIPPED = "Skipping execution for %s"  # A node under a Cond whose predicate is false.

    def __init__(self, emit_line: Callable[[str], None]):
        super().__init__(level=logging.INFO)
        self._emit_line = emit_line
        self._started: dict[str, float] = {}
        self._current = ""
        self._how = "done"
        self._logger = logging.getLogger("absl")
        self._previous_verbosity = absl_logging.get_verbosity()
        self.run_start = time.monotonic()

    def __enter__(self) -> "ComponentProgress":
        # Through absl's verbosity flag, not Logger.setLevel: TensorFlow's SavedModel writer briefly sets the
        # verbosity to FATAL and restores it from that flag, which would otherwise silence the rest of the run.
        self._logger.addHandler(self)
        absl_logging.set_verbosity(max(self._previous_verbosity, absl_logging.INFO))  # Higher = more verbose.
        self.run_start = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._logger.removeHandler(self)
        absl_logging.set_verbosity(self._previous_verbosity)
        if exc_type is not None and self._current:
            self._emit_line(f"  {self._current:<22} FAILED after {self._elapsed(self._current):.1f} s")

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == self._RUNNING:
            self._current, self._how = record.args[0], "done"
            self._started[self._current] = time.monotonic()
            self._emit_line(f"  {self._current:<22} started")
        elif record.msg == self._CACHED:
            self._how = "cached"
        elif record.msg == self._SKIPPED:
            self._how = "skipped"
        elif record.msg == self._FINISHED:
            self._emit_line(f"  {record.args[0]:<22} {self._how} in {self._elapsed(record.args[0]):.1f} s")
            self._current = ""

    def _elapsed(self, node_id: str) -> float:
        return time.monotonic() - self._started.get(node_id, self.run_start)
