"""Beam arguments on Vertex: Dataflow when asked, parsed here by Beam itself; DirectRunner otherwise."""

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, StandardOptions, WorkerOptions

from pipeline.beam_args import vertex_beam_args
from pipeline_config import load_config


def _config(**overrides):
    base = {"pipeline_root": "gs://flowers-bucket/pipeline", "vertex.project": "flowers-prod",
            "vertex.region": "europe-west4", "vertex.image": "europe-docker.pkg.dev/flowers-prod/images/flowers:1"}
    return load_config({**base, **overrides}, environ={})


def test_dataflow_args_as_beam_reads_them():
    args = vertex_beam_args(_config(**{"beam.runner": "dataflow", "vertex.dataflow_max_workers": "25",
                                         "vertex.dataflow_machine_type": "n2-standard-8",
                                         "vertex.service_account": "runner@flowers-prod.iam.gserviceaccount.com"}))
    options = PipelineOptions(args)
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    cloud = options.view_as(GoogleCloudOptions)
    assert (cloud.project, cloud.region) == ("flowers-prod", "europe-west4")
    assert cloud.temp_location == "gs://flowers-bucket/pipeline/beam/tmp"
    assert cloud.staging_location == "gs://flowers-bucket/pipeline/beam/staging"
    assert cloud.service_account_email == "runner@flowers-prod.iam.gserviceaccount.com"
    workers = options.view_as(WorkerOptions)
    assert (workers.machine_type, workers.max_num_workers) == ("n2-standard-8", 25)
    assert workers.sdk_container_image == "europe-docker.pkg.dev/flowers-prod/images/flowers:1"


def test_extra_args_come_last_so_they_can_override():
    args = vertex_beam_args(_config(**{"beam.runner": "dataflow", "beam.extra_args": "--disk_size_gb=50"}))
    assert args[-1] == "--disk_size_gb=50"


def test_direct_runner_keeps_the_local_flags():
    args = vertex_beam_args(_config(**{"beam.direct_running_mode": "multi_threading"}))
    assert "--direct_running_mode=multi_threading" in args
    assert not any(a.startswith("--runner") for a in args)
