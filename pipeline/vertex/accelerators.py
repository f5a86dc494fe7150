"""`--accelerator` values -> the Vertex custom job worker pool that runs the Trainer.

Written the way Vertex names the hardware, so the spec is checkable by eye: `tpu-v3-8`, `tpu-v5e-4`,
`gpu-nvidia-tesla-t4-1` (NVIDIA_TESLA_T4 x 1), `cpu`. Only combinations Vertex offers are accepted, so a typo
fails at compile time instead of an hour later in a job queue.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from components.errors import UserError

# TensorFlow reaches v5e chips only through the PJRT runtime, switched on by these variables (v2/v3 keep the
# default runtime). Dockerfile.tpu puts libtpu at this path.
PJRT_ENV = (("NEXT_PLUGGABLE_DEVICE_USE_C_API", "true"), ("TF_PLUGGABLE_DEVICE_LIBRARY_PATH", "/lib/libtpu.so"))

# TPU VMs: v2/v3 as 8-core `cloud-tpu` hosts; v5e as ct5lp machine types whose chip count fixes the topology.
_TPU_SPECS: dict[str, dict[str, Any]] = {
    "tpu-v2-8": {"machine_type": "cloud-tpu", "accelerator_type": "TPU_V2", "accelerator_count": 8},
    "tpu-v3-8": {"machine_type": "cloud-tpu", "accelerator_type": "TPU_V3", "accelerator_count": 8},
    "tpu-v5e-1": {"machine_type": "ct5lp-hightpu-1t", "tpu_topology": "1x1"},
    "tpu-v5e-4": {"machine_type": "ct5lp-hightpu-4t", "tpu_topology": "2x2"},
    "tpu-v5e-8": {"machine_type": "ct5lp-hightpu-8t", "tpu_topology": "2x4"},
}

# GPU type -> {count: host machine type}: the machine families Vertex attaches each GPU to.
_N1 = {1: "n1-standard-8", 2: "n1-standard-16", 4: "n1-standard-32"}
_GPU_MACHINES: dict[str, dict[int, str]] = {
    "NVIDIA_TESLA_T4": _N1,
    "NVIDIA_TESLA_P4": _N1,
    "NVIDIA_TESLA_P100": _N1,
    "NVIDIA_TESLA_V100": {**_N1, 8: "n1-standard-64"},
    "NVIDIA_L4": {1: "g2-standard-8", 2: "g2-standard-24", 4: "g2-standard-48", 8: "g2-standard-96"},
    "NVIDIA_TESLA_A100": {1: "a2-highgpu-1g", 2: "a2-highgpu-2g", 4: "a2-highgpu-4g", 8: "a2-highgpu-8g",
                          16: "a2-megagpu-16g"},
    "NVIDIA_A100_80GB": {1: "a2-ultragpu-1g", 2: "a2-ultragpu-2g", 4: "a2-ultragpu-4g", 8: "a2-ultragpu-8g"},
    "NVIDIA_H100_80GB": {8: "a3-highgpu-8g"},
}

CPU_MACHINE_TYPE = "n1-standard-8"


@dataclasses.dataclass(frozen=True)
class Accelerator:
    """One parsed `--accelerator`: its family (what the Trainer's strategy resolver should use) and machine."""

    name: str
    kind: str  # tpu | gpu | cpu, the values of training.accelerator
    machine_spec: dict[str, Any]
    env: tuple[tuple[str, str], ...] = ()

    @property
    def is_tpu(self) -> bool:
        return self.kind == "tpu"

    def worker_pool_specs(self, image_uri: str) -> list[dict[str, Any]]:
        """A single-replica pool; TFX replaces the container command with its own executor entry point."""
        container: dict[str, Any] = {"image_uri": image_uri}
        if self.env:
            container["env"] = [{"name": name, "value": value} for name, value in self.env]
        return [{"machine_spec": dict(self.machine_spec), "replica_count": 1, "container_spec": container}]


def parse_accelerator(value: str) -> Accelerator:
    """Parse and validate; the error lists every accepted form."""
    name = value.strip().lower()
    if name == "cpu":
        return Accelerator(name, "cpu", {"machine_type": CPU_MACHINE_TYPE})
    if name in _TPU_SPECS:
        return Accelerator(name, "tpu", dict(_TPU_SPECS[name]), PJRT_ENV if name.startswith("tpu-v5e") else ())
    if name.startswith("gpu-"):
        return _parse_gpu(name)
    raise UserError(f"--accelerator {value!r} is not supported; {accepted_forms()}")


def accepted_forms() -> str:
    gpus = ", ".join(f"gpu-{_gpu_flag_name(gpu)}-{{{'|'.join(map(str, counts))}}}"
                     for gpu, counts in _GPU_MACHINES.items())
    return f"use one of: cpu, {', '.join(_TPU_SPECS)}, {gpus}"


def _parse_gpu(name: str) -> Accelerator:
    gpu_part, _, count_part = name[len("gpu-"):].rpartition("-")
    gpu_type = gpu_part.upper().replace("-", "_")
    machines = _GPU_MACHINES.get(gpu_type)
    if machines is None or not count_part.isdigit() or int(count_part) not in machines:
        raise UserError(f"--accelerator {name!r} is not a GPU configuration Vertex offers; {accepted_forms()}")
    count = int(count_part)
    return Accelerator(name, "gpu", {"machine_type": machines[count], "accelerator_type": gpu_type,
                                     "accelerator_count": count})


def _gpu_flag_name(gpu_type: str) -> str:
    return gpu_type.lower().replace("_", "-")
