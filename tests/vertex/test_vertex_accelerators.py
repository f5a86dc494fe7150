"""`--accelerator` parsing: the worker pool specs Vertex expects, and clear errors for anything else."""

import pytest

from components.errors import UserError
from pipeline.vertex.accelerators import parse_accelerator


@pytest.mark.parametrize("name, tpu_type", [("tpu-v2-8", "TPU_V2"), ("tpu-v3-8", "TPU_V3")])
def test_tpu_v2_v3_are_eight_core_cloud_tpu_hosts(name, tpu_type):
    accelerator = parse_accelerator(name)
    assert accelerator.kind == "tpu"
    assert accelerator.machine_spec == {"machine_type": "cloud-tpu", "accelerator_type": tpu_type,
                                        "accelerator_count": 8}


@pytest.mark.parametrize("chips, machine, topology", [(1, "ct5lp-hightpu-1t", "1x1"), (4, "ct5lp-hightpu-4t", "2x2"),
                                                      (8, "ct5lp-hightpu-8t", "2x4")])
def test_tpu_v5e_uses_ct5lp_machines_with_their_topology(chips, machine, topology):
    accelerator = parse_accelerator(f"tpu-v5e-{chips}")
    assert accelerator.kind == "tpu"
    assert accelerator.machine_spec == {"machine_type": machine, "tpu_topology": topology}


def test_gpu_names_follow_vertex_accelerator_types():
    t4 = parse_accelerator("gpu-nvidia-tesla-t4-1")
    assert t4.kind == "gpu"
    assert t4.machine_spec == {"machine_type": "n1-standard-8", "accelerator_type": "NVIDIA_TESLA_T4",
                               "accelerator_count": 1}
    a100 = parse_accelerator("GPU-NVIDIA-A100-80GB-4")
    assert a100.machine_spec == {"machine_type": "a2-ultragpu-4g", "accelerator_type": "NVIDIA_A100_80GB",
                                 "accelerator_count": 4}


def test_every_gpu_type_is_a_real_vertex_accelerator_type():
    from google.cloud.aiplatform_v1.types import AcceleratorType

    from pipeline.vertex import accelerators

    assert set(accelerators._GPU_MACHINES) <= set(AcceleratorType.__members__)


def test_cpu_is_a_plain_machine():
    cpu = parse_accelerator("cpu")
    assert cpu.kind == "cpu"
    assert cpu.machine_spec == {"machine_type": "n1-standard-8"}


def test_v5e_jobs_switch_tensorflow_to_the_pjrt_runtime():
    [pool] = parse_accelerator("tpu-v5e-8").worker_pool_specs("img:1")
    assert pool["container_spec"]["env"] == [{"name": "NEXT_PLUGGABLE_DEVICE_USE_C_API", "value": "true"},
                                             {"name": "TF_PLUGGABLE_DEVICE_LIBRARY_PATH", "value": "/lib/libtpu.so"}]


def test_worker_pool_is_one_replica_of_the_given_image():
    pools = parse_accelerator("tpu-v3-8").worker_pool_specs("europe-docker.pkg.dev/p/r/trainer-tpu:1")
    assert pools == [{"machine_spec": {"machine_type": "cloud-tpu", "accelerator_type": "TPU_V3",
                                       "accelerator_count": 8},
                      "replica_count": 1, "container_spec": {"image_uri": "europe-docker.pkg.dev/p/r/trainer-tpu:1"}}]


@pytest.mark.parametrize("value", ["tpu-v4-8", "tpu-v5e-2", "gpu-nvidia-tesla-t4-3", "gpu-nvidia-rtx-1", "gpu-t4",
                                   "gpu-nvidia-tesla-t4-x", "a100", ""])
def test_bad_values_list_the_accepted_forms(value):
    with pytest.raises(UserError) as error:
        parse_accelerator(value)
    message = str(error.value)
    for form in ("cpu", "tpu-v2-8", "tpu-v3-8", "tpu-v5e-4", "gpu-nvidia-tesla-t4-{1|2|4}"):
        assert form in message
