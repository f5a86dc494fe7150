"""Beam arguments for the Beam-powered steps (ingestion, statistics, evaluation) of a Vertex run.

With `beam.runner=dataflow` each of those steps launches a Dataflow job from its Vertex container. Workers
start from the pipeline image (`--sdk_container_image`), which already holds this package and the exact
library versions of the launching container, so nothing is pip-installed per job (`--setup_file` would build
and install the package and all of TFX on every worker at every start).
"""

from __future__ import annotations

from pipeline.local_runner import local_beam_args
from pipeline_config import PipelineConfig


def beam_pipeline_args(config: PipelineConfig) -> list[str]:
    """Dataflow flags when asked for, else the same DirectRunner flags as a local run (inside the step's pod)."""
    if config.beam.runner == "dataflow":
        return dataflow_args(config)
    return local_beam_args(config)


def dataflow_args(config: PipelineConfig) -> list[str]:
    """Project, region, staging under the pipeline root, worker shape and the worker image."""
    vertex = config.vertex
    args = [
        "--runner=DataflowRunner",
        f"--project={vertex.project}",
        f"--region={vertex.region}",
        f"--temp_location={config.pipeline_root.rstrip('/')}/beam/tmp",
        f"--staging_location={config.pipeline_root.rstrip('/')}/beam/staging",
        f"--machine_type={vertex.dataflow_machine_type}",
        f"--max_num_workers={vertex.dataflow_max_workers}",
        f"--sdk_container_image={vertex.image}",
    ]
    if vertex.service_account:
        args.append(f"--service_account_email={vertex.service_account}")
    return args + list(config.beam.extra_args)
