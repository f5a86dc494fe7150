"""run_outcome: the word, reason and exit status a local run ends with, from its record and its error."""

from components.report.record import GateResult, PushResult, RunRecord
from components.validation import AnomaliesFound, LabelDriftFound
from pipeline.outcome import run_outcome


def record(**fields) -> RunRecord:
    return RunRecord(pipeline_name="flowers", pipeline_root="/r", run_id="run-1", **fields)


def test_blessed_refused_stopped_and_failed_have_their_own_exit_status():
    blessed = run_outcome(record(gate=GateResult(evaluated=True, blessed=True),
                                 push=PushResult(pushed=True, destination="/s/2", version="2")), None)
    assert (blessed.line, blessed.exit_status) == ("Result: blessed (in service as /s/2)", 0)
    refused = run_outcome(record(gate=GateResult(evaluated=True, blessed=False, reasons=["accuracy 0.7 < 0.8"])),
                          None)
    assert (refused.line, refused.exit_status) == ("Result: refused (accuracy 0.7 < 0.8)", 3)
    drift = run_outcome(record(), LabelDriftFound("label drift 0.267 is past it, stopping:\n  dandelion: ..."))
    assert (drift.line, drift.exit_status) == ("Result: stopped (label drift 0.267 is past it, stopping)", 4)
    assert run_outcome(record(), AnomaliesFound("anomalies")).word == "stopped"
    failed = run_outcome(record(), ValueError("bad tensor"))
    assert (failed.line, failed.exit_status) == ("Result: failed (ValueError: bad tensor)", 1)


def test_a_run_that_ended_without_evaluation_and_without_error_is_a_failure():
    assert run_outcome(record(), None).word == "failed"
