"""The Beam flags of every runner side by side: what the Beam steps (ingestion, statistics, evaluation) run on.

A local run and `ingest` use the DirectRunner in this process. A Vertex step uses the same DirectRunner flags
inside its pod, or with `beam.runner=dataflow` launches a Dataflow job from its container. Dataflow workers start
from the pipeline image (`--sdk_container_image`), which already holds this package and the exact library versions
of the launching container, so nothing is pip-installed per job (`--setup_file` would build and install the
package and all of TFX on every worker at every start). `beam.extra_args` come last, so they can override.
"""

from __future__ import annotations

from components.errors import ConfigError
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


def check_beam_args(flags: list[str]) -> None:
    """Parse Beam flags up front with Beam's own option classes, as a pipeline would: an unknown option, a value
    of the wrong type or an unknown runner is one ConfigError line (status 2), not Beam's silent drop of what it
    cannot parse, its 100-line usage or a traceback from the runner."""
    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser
    from apache_beam.runners.runner import create_runner

    class Parser(_BeamArgumentParser):  # Beam's parser (it knows value-provider options), raising, not exiting.
        def error(self, message):
            raise ConfigError(f"--beam-arg: {message}")

    parser = Parser(add_help=False)
    for options_class in {str(cls): cls for cls in PipelineOptions.__subclasses__()}.values():  # As Beam does.
        options_class._add_argparse_args(parser)  # pylint: disable=protected-access
    known, unknown = parser.parse_known_args(flags)
    if unknown:
        raise ConfigError(f"--beam-arg {unknown[0]}: not a Beam pipeline option (written --name=value, as "
                          "Beam's PipelineOptions define them)")
    if known.runner:
        try:
            create_runner(known.runner)
        except ValueError as error:
            raise ConfigError(f"--beam-arg --runner={known.runner}: {error}") from None
