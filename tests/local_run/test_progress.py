"""Progress lines from LocalDagRunner's absl records, robust to libraries that juggle absl's verbosity."""

from absl import logging as absl_logging

from pipeline.local_runner import ComponentProgress, local_beam_args
from pipeline_config import load_config


def test_start_cached_and_done_lines():
    lines = []
    with ComponentProgress(lines.append):
        absl_logging.info("Component %s is running.", "Trainer")
        absl_logging.info("Component %s is finished.", "Trainer")
        absl_logging.info("Component %s is running.", "Evaluator")
        absl_logging.info("A cached execution %d is used.", 7)
        absl_logging.info("Component %s is finished.", "Evaluator")
    assert [line.split()[:2] for line in lines] == [["Trainer", "started"], ["Trainer", "done"],
                                                    ["Evaluator", "started"], ["Evaluator", "cached"]]


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
