"""Runs and schedules on Vertex AI Pipelines through `google.cloud.aiplatform`.

A request is built once as plain data (`RunRequest`, `ScheduleRequest`); `--dry-run` prints exactly that data
and the real call passes the same values to `PipelineJob(...)`, `.submit(...)` and `.create_schedule(...)`, so
what is printed is what would be sent.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from components.errors import UserError
from pipeline.vertex import spec

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
HOW_TO_AUTHENTICATE = ("run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
                       "to a service-account key file")


@dataclasses.dataclass(frozen=True)
class RunRequest:
    """One pipeline run: the arguments of `PipelineJob(...)` and of `.submit(service_account=...)`."""

    display_name: str
    template_path: str
    pipeline_root: str
    project: str
    location: str
    parameter_values: dict[str, Any]
    enable_caching: bool
    labels: dict[str, str]
    service_account: str | None

    def job_args(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "service_account"}


@dataclasses.dataclass(frozen=True)
class ScheduleRequest:
    """A recurring run: the run it starts and the arguments of `PipelineJob.create_schedule(...)`."""

    run: RunRequest
    cron: str
    display_name: str
    max_concurrent_run_count: int
    start_time: str | None
    end_time: str | None

    def schedule_args(self) -> dict[str, Any]:
        return {"cron": self.cron, "display_name": self.display_name,
                "max_concurrent_run_count": self.max_concurrent_run_count, "start_time": self.start_time,
                "end_time": self.end_time, "service_account": self.run.service_account}


def run_request(*, template_path: str, display_name: str, project: str, location: str,
                pipeline_root: str | None = None, parameter_values: dict[str, str] | None = None,
                enable_caching: bool = True, labels: dict[str, str] | None = None,
                service_account: str | None = None) -> RunRequest:
    """Validate a run against its compiled template: declared parameters, labels, a gs:// root."""
    template = spec.load_template(template_path)
    root = pipeline_root or template.pipeline_root
    if not root.startswith("gs://"):
        raise UserError(f"the pipeline root {root!r} is not a gs:// path; recompile with --pipeline-root gs://...")
    labels = dict(labels or {})
    _validate_labels(labels)
    return RunRequest(display_name=display_name, template_path=template_path, pipeline_root=root, project=project,
                      location=location, parameter_values=_typed_parameters(template, parameter_values or {}),
                      enable_caching=enable_caching, labels=labels, service_account=service_account or None)


def schedule_request(run: RunRequest, *, cron: str, display_name: str | None = None,
                     max_concurrent_run_count: int = 1, start_time: str | None = None,
                     end_time: str | None = None) -> ScheduleRequest:
    validate_cron(cron)
    if max_concurrent_run_count < 1:
        raise UserError("--max-concurrent must be at least 1")
    start, end = _rfc3339("--start", start_time), _rfc3339("--end", end_time)
    if start and end and start >= end:
        raise UserError("--end must be later than --start")
    return ScheduleRequest(run=run, cron=cron, display_name=display_name or f"{run.display_name}-schedule",
                           max_concurrent_run_count=max_concurrent_run_count, start_time=start_time,
                           end_time=end_time)


def describe_run(request: RunRequest) -> dict[str, Any]:
    """The dry-run view of a run: the call arguments with a summary of the pipeline spec they send."""
    return {"PipelineJob": request.job_args(), "submit": {"service_account": request.service_account},
            "pipeline_spec": spec_summary(request.template_path)}


def describe_schedule(request: ScheduleRequest) -> dict[str, Any]:
    return {"PipelineJob": request.run.job_args(), "create_schedule": request.schedule_args(),
            "pipeline_spec": spec_summary(request.run.template_path)}


def spec_summary(template_path: str) -> dict[str, Any]:
    """What a reader checks in a compiled pipeline: its tasks, images and the Trainer's machines."""
    template = spec.load_template(template_path)
    return {
        "path": template_path,
        "name": template.name,
        "sdk_version": template.spec.get("sdkVersion"),
        "tasks": [task.name for task in template.tasks()],
        "images": template.images(),
        "runtime_parameters": template.runtime_parameters,
        "custom_jobs": template.custom_jobs(),
    }


def default_credentials():
    """Application Default Credentials, or a UserError saying how to create them (no retries, no waiting)."""
    import google.auth
    from google.auth import exceptions

    try:
        credentials, _ = google.auth.default(scopes=list(SCOPES))
    except exceptions.DefaultCredentialsError as error:
        raise UserError(f"no Google Cloud credentials found ({error}); {HOW_TO_AUTHENTICATE}") from None
    return credentials


def submit(request: RunRequest, credentials) -> str:
    """Create the pipeline run; returns its resource name."""
    job = _pipeline_job(request, credentials)
    job.submit(service_account=request.service_account)
    return job.resource_name


def create_schedule(request: ScheduleRequest, credentials) -> str:
    schedule = _pipeline_job(request.run, credentials).create_schedule(**request.schedule_args())
    return schedule.resource_name


def list_schedules(project: str, location: str, credentials) -> list[dict[str, Any]]:
    from google.cloud import aiplatform

    schedules = aiplatform.PipelineJobSchedule.list(project=project, location=location, credentials=credentials)
    return [_schedule_row(s) for s in schedules]


def change_schedule(action: str, name: str, project: str, location: str, credentials) -> str:
    """pause | resume | delete one schedule, by id or full resource name; returns the resource name."""
    from google.cloud import aiplatform

    schedule = aiplatform.PipelineJobSchedule.get(name, project=project, location=location,
                                                  credentials=credentials)
    getattr(schedule, action)()
    return schedule.resource_name


def validate_cron(cron: str) -> None:
    """Five cron fields, optionally after a `TZ=` / `CRON_TZ=` time zone, as Vertex schedules accept."""
    fields = cron.split()
    if fields and fields[0].startswith(("TZ=", "CRON_TZ=")):
        fields = fields[1:]
    if len(fields) != 5:
        raise UserError(f"--cron {cron!r}: expected 5 fields (minute hour day-of-month month day-of-week), "
                        f"optionally after TZ=Area/City, e.g. \"0 3 * * 1\"")


def _pipeline_job(request: RunRequest, credentials):
    from google.cloud import aiplatform

    return aiplatform.PipelineJob(credentials=credentials, **request.job_args())


def _typed_parameters(template: spec.Template, values: dict[str, str]) -> dict[str, Any]:
    """Only parameters the compiled pipeline declares, converted to their declared types."""
    declared = template.spec["root"].get("inputDefinitions", {}).get("parameters", {})
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise UserError(f"--param {', '.join(unknown)}: the compiled pipeline declares "
                        f"{', '.join(sorted(declared)) or 'no runtime parameters'}; settings such as "
                        f"data.data_root are compiled in, so pass them as flags or --set to recompile")
    return {name: _typed(name, declared[name], value) for name, value in values.items()}


def _typed(name: str, declaration: dict[str, Any], value: str) -> Any:
    kind = declaration.get("parameterType") or declaration.get("type")
    try:
        if kind in ("NUMBER_INTEGER", "INT"):
            return int(value)
        if kind in ("NUMBER_DOUBLE", "DOUBLE"):
            return float(value)
    except ValueError:
        raise UserError(f"--param {name}={value!r}: expected a {kind} value") from None
    return value


def _validate_labels(labels: dict[str, str]) -> None:
    from google.cloud.aiplatform import utils

    try:
        utils.validate_labels(labels)
    except ValueError as error:
        raise UserError(f"--label: {error}") from None


def _rfc3339(flag: str, value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise UserError(f"{flag} {value!r}: expected an RFC 3339 time with a zone, e.g. 2025-01-06T03:00:00Z")
    return parsed


def _schedule_row(schedule) -> dict[str, Any]:
    resource = schedule.gca_resource
    return {"name": resource.name, "display_name": resource.display_name, "cron": resource.cron,
            "state": resource.state.name, "next_run_time": _timestamp(resource.next_run_time),
            "started_run_count": resource.started_run_count}


def _timestamp(value) -> str | None:
    return value.isoformat() if value else None
