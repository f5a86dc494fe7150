"""Progress lines from LocalDagRunner's absl records, robust to libraries that juggle absl's verbosity."""

import pytest
from absl import logging as absl_logging

from pipeline.beam_args import local_beam_args
from pipeline.local_runner import ComponentProgress
from pipeline_config import load_config


def test_start_cached_skipped_and_done_lines():
    lines = []
    with ComponentProgress(lines.append):
        absl_logging.info("Component %s is running.", "Trainer")
        absl_logging.info("Component %s is finished.", "Trainer")
        absl_logging.info("Component %s is running.", "Evaluator")
        absl_logging.info("A cached execution %d is used.", 7)
        absl_logging.info("Component %s is finished.", "Evaluator")
        absl_logging.info("Component %s is running.", "LabelDriftBaseline")
        absl_logging.info("Skipping execution for %s", "LabelDriftBaseline")
        absl_logging.info("Component %s is finished.", "LabelDriftBaseline")
    assert [line.split()[:2] for line in lines] == [["Trainer", "started"], ["Trainer", "done"],
                                                    ["Evaluator", "started"], ["Evaluator", "cached"],
                                                    ["LabelDriftBaseline", "started"],
                                                    ["LabelDriftBaseline", "skipped"]]


def test_lines_survive_tensorflow_saving_a_model():
    """TF's SavedModel writer sets absl to FATAL, then restores the verbosity it read before."""
    lines = []
    with ComponentProgress(lines.append):
        saved = absl_logging.get_verbosity()
        absl_logging.set_verbosity(absl_logging.FATAL)
        absl_logging.set_verbosity(saved)
        absl_logging.info("Component %s is running.", "Pusher")
    assert lines and "Pusher" in lines[0]


def test_a_failure_names_the_component():
    lines = []
    try:
        with ComponentProgress(lines.append):
            absl_logging.info("Component %s is running.", "Trainer")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "Trainer" in lines[-1] and "FAILED" in lines[-1]


def test_in_memory_beam_has_no_worker_count():
    assert local_beam_args(load_config(environ={})) == ["--direct_running_mode=in_memory"]
    config = load_config({"beam.direct_running_mode": "multi_processing", "beam.direct_num_workers": "2"},
                         environ={})
    assert local_beam_args(config) == ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def test_cli_flags_do_not_reach_tfx_beam_executors(monkeypatch):
    """`flowers-pipeline -v run`: TFX's Beam executors re-parse sys.argv with absl, where -v is --verbosity."""
    from absl import flags
    from tfx.components.statistics_gen.executor import Executor as StatisticsGenExecutor

    from pipeline.local_runner import cli_arguments_hidden

    def beam_executor():
        return StatisticsGenExecutor(StatisticsGenExecutor.Context(
            beam_pipeline_args=["--direct_running_mode=in_memory"]))

    monkeypatch.setattr("sys.argv", ["flowers-pipeline", "-v", "run", "--epochs", "1"])
    with pytest.raises(flags.IllegalFlagValueError, match="verbosity"):  # What the run crashed with.
        beam_executor()
    with cli_arguments_hidden():
        import sys

        assert sys.argv == ["flowers-pipeline"]
        beam_executor()
    assert sys.argv[1:] == ["-v", "run", "--epochs", "1"]
