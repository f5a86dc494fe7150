"""submit and schedule: the requests that leave the real aiplatform client, and their dry-run twins."""

import json
import os
import subprocess
import sys
import time

import pytest

from pipeline import cli
from tests.vertex.vertex_fakes import IMAGE, PROJECT, REGION, SCHEDULE_ID, SERVICE_ACCOUNT

WHERE = ["--project", PROJECT, "--region", REGION]


def _submit_args(template, *extra):
    return ["submit", "--template", template, *WHERE, "--service-account", SERVICE_ACCOUNT, *extra]


def _schedule_args(template, *extra):
    return ["schedule", "--cron", "0 3 * * 1", "--template", template, *WHERE, "--service-account",
            SERVICE_ACCOUNT, *extra]


def test_submit_sends_one_pipeline_job_as_the_service_account(fake_google, small_template, capsys):
    status = cli.main(_submit_args(small_template, "--param", "schema_uri=gs://flowers-bucket/s.pbtxt",
                                   "--label", "team=vision"))
    assert status == 0, capsys.readouterr().err
    [job] = fake_google.sent("POST", f"/v1/projects/{PROJECT}/locations/{REGION}/pipelineJobs")
    assert job["displayName"] == "flowers"
    assert job["serviceAccount"] == SERVICE_ACCOUNT
    assert job["labels"] == {"team": "vision"}
    assert job["pipelineSpec"]["pipelineInfo"]["name"] == "flowers"
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://flowers-bucket/pipeline"
    assert job["runtimeConfig"]["parameters"]["schema_uri"] == {"stringValue": "gs://flowers-bucket/s.pbtxt"}
    assert "pipelineJobs/flowers-1" in capsys.readouterr().out


def test_no_cache_turns_caching_off_for_every_step(fake_google, small_template):
    cached = json.load(open(small_template))["pipelineSpec"]["root"]["dag"]["tasks"]
    assert all(t["cachingOptions"].get("enableCache") for t in cached.values())
    assert cli.main(_submit_args(small_template, "--no-cache")) == 0
    [job] = fake_google.sent("POST", "/pipelineJobs")
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"].values()
    assert not any(t.get("cachingOptions", {}).get("enableCache") for t in tasks)


def test_submit_dry_run_prints_the_request_and_sends_nothing(fake_google, small_template, capsys):
    assert cli.main(_submit_args(small_template, "--dry-run", "--param", "schema_uri=gs://b/s.pbtxt")) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["PipelineJob"] == {
        "display_name": "flowers", "template_path": small_template, "pipeline_root": "gs://flowers-bucket/pipeline",
        "project": PROJECT, "location": REGION, "parameter_values": {"schema_uri": "gs://b/s.pbtxt"},
        "enable_caching": True, "labels": {}}
    assert printed["submit"] == {"service_account": SERVICE_ACCOUNT}
    assert printed["pipeline_spec"]["tasks"] == ["ImportSchemaGen"]
    assert printed["pipeline_spec"]["images"] == [IMAGE]
    assert fake_google.requests == []


def test_undeclared_parameter_is_refused_with_what_is_declared(small_template, capsys):
    assert cli.main(_submit_args(small_template, "--dry-run", "--param", "data_root=gs://b/photos")) == 1
    error = capsys.readouterr().err
    assert "data_root" in error and "schema_uri" in error and "--set to recompile" in error


def test_template_with_dag_settings_is_refused(small_template, capsys):
    assert cli.main(_submit_args(small_template, "--dry-run", "--data-root", "gs://b/photos")) == 1
    assert "--data-root" in capsys.readouterr().err


def test_schedule_creates_a_cron_schedule_of_the_pipeline(fake_google, small_template, capsys):
    status = cli.main(_schedule_args(small_template, "--max-concurrent", "2", "--start", "2030-01-06T03:00:00Z",
                                     "--display-name", "weekly-retrain"))
    assert status == 0, capsys.readouterr().err
    [schedule] = fake_google.sent("POST", f"/v1/projects/{PROJECT}/locations/{REGION}/schedules")
    assert schedule["cron"] == "0 3 * * 1"
    assert schedule["displayName"] == "weekly-retrain"
    assert schedule["maxConcurrentRunCount"] == "2"
    assert schedule["startTime"] == "2030-01-06T03:00:00Z"
    run = schedule["createPipelineJobRequest"]
    assert run["parent"] == f"projects/{PROJECT}/locations/{REGION}"
    assert run["pipelineJob"]["serviceAccount"] == SERVICE_ACCOUNT
    assert run["pipelineJob"]["pipelineSpec"]["pipelineInfo"]["name"] == "flowers"
    assert run["pipelineJob"]["runtimeConfig"]["gcsOutputDirectory"] == "gs://flowers-bucket/pipeline"
    assert f"schedules/{SCHEDULE_ID}" in capsys.readouterr().out


def test_schedule_dry_run_prints_the_cron_request(fake_google, small_template, capsys):
    assert cli.main(_schedule_args(small_template, "--dry-run")) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["create_schedule"] == {"cron": "0 3 * * 1", "display_name": "flowers-schedule",
                                          "max_concurrent_run_count": 1, "start_time": None, "end_time": None,
                                          "service_account": SERVICE_ACCOUNT}
    assert printed["PipelineJob"]["template_path"] == small_template
    assert fake_google.requests == []


@pytest.mark.parametrize("flags, message", [(["--cron", "0 3 * *"], "expected 5 fields"),
                                            (["--cron", "0 3 * * 1", "--start", "next monday"], "RFC 3339"),
                                            (["--cron", "0 3 * * 1", "--max-concurrent", "0"], "at least 1")])
def test_bad_schedule_settings_fail_before_any_request(small_template, capsys, flags, message):
    args = ["schedule", "--template", small_template, *WHERE, "--dry-run", *flags]
    assert cli.main(args) == 1
    assert message in capsys.readouterr().err


def test_schedule_list_pause_resume_delete(fake_google, capsys):
    assert cli.main(["schedule", "list", *WHERE]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"].rsplit("/", 1)[1], r["state"]) for r in rows] == [(SCHEDULE_ID, "ACTIVE"), ("4343", "PAUSED")]
    for action in ("pause", "resume"):
        assert cli.main(["schedule", action, SCHEDULE_ID, *WHERE]) == 0
        assert fake_google.sent("POST", f"/schedules/{SCHEDULE_ID}:{action}")
    assert cli.main(["schedule", "delete", SCHEDULE_ID, *WHERE]) == 0
    assert [p for m, p, _ in fake_google.requests if m == "DELETE"] == [
        f"/v1/projects/{PROJECT}/locations/{REGION}/schedules/{SCHEDULE_ID}?%24alt=json%3Benum-encoding%3Dint"]


def test_schedule_management_dry_run(capsys):
    assert cli.main(["schedule", "pause", SCHEDULE_ID, *WHERE, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == {"action": "pause", "schedule": SCHEDULE_ID, "project": PROJECT,
                                                   "location": REGION}


def test_missing_key_file_says_how_to_authenticate(small_template, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    assert cli.main(_submit_args(small_template)) == 1
    assert "gcloud auth application-default login" in capsys.readouterr().err


def test_no_credentials_anywhere_fails_fast_with_instructions(small_template, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GOOGLE_APPLICATION_CREDENTIALS"}
    env.update(CLOUDSDK_CONFIG=str(tmp_path / "gcloud"), NO_GCE_CHECK="true")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pipeline", *_submit_args(small_template)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "gcloud auth application-default login" in result.stderr
    assert "GOOGLE_APPLICATION_CREDENTIALS" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60
