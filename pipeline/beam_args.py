"""The Beam flags of every runner side by side: what the Beam steps (ingestion, statistics, evaluation) run on.

A local run and `ingest` use the DirectRunner in this process. A Vertex step uses the same DirectRunner flags
inside its pod, or with `beam.runner=dataflow` launches a Dataflow job from its container. Dataflow workers start
from the pipeline image (`--sdk_container_image`), which already holds this package and the exact library versions
of the launching container, so nothing is pip-installed per job (`--setup_file` would build and install the
package and all of TFX on every worker at every start). `beam.extra_args` come last, so they can override.
"""

from __future__ import annotations

from pipeline_config import PipelineConfig


def local_beam_args(config: PipelineConfig) -> list[str]:
    """DirectRunner flags; in-process by default, since worker start-up outweighs the gain on small inputs."""
    beam = config.beam
    args = [f"--direct_running_mode={beam.direct_running_mode}", *beam.extra_args]
    if beam.direct_running_mode != "in_memory":  # Workers only exist in the threading/processing modes.
        args.insert(1, f"--direct_num_workers={beam.direct_num_workers}")
    return args


def vertex_beam_args(config: PipelineConfig) -> list[str]:
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
