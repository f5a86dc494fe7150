"""`python -m pipeline.vertex.local_custom_job ARGS`: a replayed Trainer task whose Vertex CustomJob runs here.

On Vertex the Trainer task's container (TFX's Vertex training executor) builds a CustomJob and sends it to
Vertex AI Training, which runs the job's worker-pool command on the requested machine. Here the same entry
point runs with the same ARGS, TFX builds the same job body with its own code (`VertexJobClient.
create_training_job`), and only the service is stood in for: the body is checked as a `CustomJob` message and
written to `<job dir>/custom_job_request.json`, and the worker pool's command runs on this machine's CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

JOB_DIR_ENV = "FLOWERS_REPLAY_JOB_DIR"  # Set by the replay: where the request and the worker's log go.
REQUEST_FILE = "custom_job_request.json"
WORKER_LOG = "worker.log"
EXEC_PROPERTIES_FLAG = "--exec-properties"  # tfx.scripts.run_executor's flag (VertexJobClient's command).


def on_this_cpu(command: list[str]) -> list[str]:
    """The worker-pool command with this Python for the image's, and the Trainer's accelerator set to the CPU
    (a TPU or GPU cannot be reached from here), so the job trains what it would train, on the CPU."""
    argv = [sys.executable if i == 0 and part == "python" else part for i, part in enumerate(command)]
    flag = argv.index(EXEC_PROPERTIES_FLAG)
    exec_properties = json.loads(argv[flag + 1])
    custom_config = json.loads(exec_properties["custom_config"])
    custom_config["training"] = {**custom_config["training"], "accelerator": "cpu", "tpu": ""}
    exec_properties["custom_config"] = json.dumps(custom_config, sort_keys=True)
    argv[flag + 1] = json.dumps(exec_properties, sort_keys=True)
    return argv


def _local_job_client():
    from google.cloud.aiplatform_v1.types import CustomJob, JobState
    from tfx.extensions.google_cloud_ai_platform import training_clients

    class LocalJobClient(training_clients.VertexJobClient):
        """VertexJobClient whose service is this machine: no API client, no credentials."""

        def create_client(self) -> None:
            self._client = None

        def launch_job(self, project: str, training_job: dict[str, Any]) -> None:
            job_dir = os.environ[JOB_DIR_ENV]
            parent = f"projects/{project}/locations/{self._region}"
            CustomJob(training_job)  # The body aiplatform would send; a field Vertex does not know fails here.
            with open(os.path.join(job_dir, REQUEST_FILE), "w") as file:
                json.dump({"parent": parent, "custom_job": training_job}, file, indent=2, sort_keys=True)
            [pool, *_] = training_job["job_spec"]["worker_pool_specs"]
            with open(os.path.join(job_dir, WORKER_LOG), "w") as log:
                status = subprocess.run(on_this_cpu(pool["container_spec"]["command"]), stdout=log,
                                        stderr=subprocess.STDOUT, check=False).returncode
            self._job_name = f"{parent}/customJobs/replay"
            self._state = JobState.JOB_STATE_SUCCEEDED if status == 0 else JobState.JOB_STATE_FAILED
            self._error = "" if status == 0 else f"the worker pool's command exited with status {status}"

        def get_job(self):
            return CustomJob(name=self._job_name, state=self._state, error={"message": self._error})

    return LocalJobClient


def main() -> None:
    from absl import app
    from tfx.extensions.google_cloud_ai_platform import training_clients
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

    client_class = _local_job_client()
    training_clients.get_job_client = lambda enable_vertex, vertex_region: client_class(vertex_region)
    app.run(kubeflow_v2_run_executor.main, flags_parser=kubeflow_v2_run_executor._parse_flags)  # noqa: SLF001


if __name__ == "__main__":
    main()
