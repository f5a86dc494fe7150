"""Every knob of the flowers pipeline, in one typed and validated object.

Settings travel one way: the CLI, environment variables (`FLOWERS_<SECTION>_<FIELD>`, e.g.
`FLOWERS_TRAINING_EPOCHS=3`) and `--set section.field=value` overrides build one `PipelineConfig`;
`create_pipeline()` turns it into component parameters. Components never read this module.
Invalid values fail at construction with a `ConfigError` naming the dotted field.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from pathlib import Path
from typing import Any, Mapping

from components.errors import UserError
from components.ingestion.settings import CODELAB_CLASSES  # noqa: F401 (the default data.classes, for callers)
from components.ingestion.settings import IngestSettings, InvalidSetting

# Keras 2 (tf_keras) for the whole TFX 1.16 stack, set before TensorFlow loads wherever a process can start:
# pipeline/ (the CLI), components/ (Beam workers, the Trainer, Vertex containers), pipeline_config.py (scripts).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

PROJECT_DIR = Path(__file__).resolve().parent
BUNDLED_SAMPLE = PROJECT_DIR / "data" / "sample_flowers"
BUNDLED_WEIGHTS = PROJECT_DIR / "data" / "weights" / "mobilenet_v2_0.35_224_no_top_from_teachable_machine.h5"
ENV_PREFIX = "FLOWERS_"
MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seeds are unsigned 32-bit.


class ConfigError(UserError):
    """A setting is unknown or has an invalid value; the message names the dotted field (exit status 2)."""


@dataclasses.dataclass(frozen=True)
class DataConfig(IngestSettings):
    """Where the photos are, and how ingestion makes them records (the fields of IngestSettings, as `data.*`)."""

    data_root: str = str(BUNDLED_SAMPLE)

    def validate(self) -> None:
        _check(self.data_root != "", "data.data_root", "must not be empty")
        try:
            super().validate()
        except InvalidSetting as error:
            raise ConfigError(f"data.{error}") from None


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """The model and how it is trained."""

    model: str = "mobilenet_v2"
    weights: str = str(BUNDLED_WEIGHTS)  # "imagenet", "none" or a path to a Keras .h5 backbone.
    alpha: float = 0.0  # MobileNetV2 width; 0 = follow the weights file (1.0 for imagenet/none).
    epochs: int = 10
    batch_size: int = 16  # Per replica; the global batch is this times the replica count.
    learning_rate: float = 5e-3  # Peak rate for the reference batch of 16, scaled with the global batch.
    # (5e-3: a frozen MobileNetV2 + linear head reached 0.88-0.90 in 4-fold CV on the train split at 3e-3..1e-2,
    # 0.84 at 1e-3, within 10 epochs.)
    warmup_epochs: int = 1
    lr_decay: float = 0.8  # Per-epoch decay after warm-up, as in the codelab.
    dropout: float = 0.2
    # The second phase (README "The Trainer's recipe", from train-split cross-validation): MobileNetV2's last
    # three blocks and Conv_1 (29 layers), 8 epochs at 5e-4 with cosine decay, from 400 train photos up.
    fine_tune_layers: int = 29  # Top backbone layers trained in a second phase (cut at a block boundary below).
    fine_tune_epochs: int = 8
    fine_tune_learning_rate: float = 5e-4  # Peak for the reference batch of 16, then cosine decay.
    fine_tune_min_records: int = 400  # The second phase runs only when the train split holds this many photos.
    feature_cache: bool = True  # Run a model's frozen part once per photo view and train on its outputs.
    feature_cache_max_bytes: int = 2**30  # Host memory for those outputs; beyond it, train end to end.
    shuffle_buffer: int = 2048
    steps_per_execution: int = 32  # Steps per host round-trip, used on TPU only (capped at an epoch).
    accelerator: str = "auto"  # auto | tpu | gpu | cpu
    tpu: str = ""  # TPU name or grpc:// address; empty = discover from the environment.
    seed: int = 42
    warm_start: bool = False  # Start from the last blessed model's weights (measured no gain: make bench-retrain).

    def validate(self) -> None:
        _check(self.model != "", "training.model", "must name a registered model")
        _check(self.weights != "", "training.weights", "must be imagenet, none or a file path")
        _check(self.alpha == 0.0 or 0.0 < self.alpha <= 2.0, "training.alpha", "must be 0 (auto) or in (0, 2]")
        _check(self.epochs >= 1, "training.epochs", "must be at least 1")
        _check(self.batch_size >= 1, "training.batch_size", "must be at least 1")
        _check(0 < self.learning_rate <= 1, "training.learning_rate", "must be in (0, 1]")
        _check(0 <= self.warmup_epochs <= self.epochs, "training.warmup_epochs",
               "must be between 0 and epochs (warm-up may span the whole run)")
        _check(0.0 < self.lr_decay <= 1.0, "training.lr_decay", "must be in (0, 1]")
        _check(0.0 <= self.dropout < 1.0, "training.dropout", "must be in [0, 1)")
        _check(self.fine_tune_layers >= 0, "training.fine_tune_layers", "must not be negative")
        _check(self.fine_tune_epochs >= 0, "training.fine_tune_epochs", "must not be negative")
        _check(0 < self.fine_tune_learning_rate <= 1, "training.fine_tune_learning_rate", "must be in (0, 1]")
        _check(self.fine_tune_min_records >= 0, "training.fine_tune_min_records", "must not be negative")
        _check(self.feature_cache_max_bytes >= 0, "training.feature_cache_max_bytes", "must not be negative")
        _check(self.shuffle_buffer >= 1, "training.shuffle_buffer", "must be at least 1")
        _check(self.steps_per_execution >= 1, "training.steps_per_execution", "must be at least 1")
        _check(self.accelerator in ("auto", "tpu", "gpu", "cpu"), "training.accelerator",
               "must be one of auto, tpu, gpu, cpu")
        _check(0 <= self.seed <= MAX_SEED, "training.seed", f"must be between 0 and {MAX_SEED}")


@dataclasses.dataclass(frozen=True)
class ValidationConfig:
    """When a run stops before training because its data differs from what the model in service learnt from."""

    # L-infinity distance between the label shares of this run's photos and those the latest blessed model was
    # trained on: the largest change of any one class's share. 0.15 lets a retraining add a one-class batch of up
    # to 23% of the data (a class at share p gains k photos on n: its share moves by k(1 - p)/(n + k); 600 photos
    # + 100 all in one class of five: 0.11) or any spread batch (+100 over five classes: about 0.02), while a dump
    # that reshapes the mix stops (600 + 300 dandelions: 0.27). 1 accepts any shift (--accept-drift).
    max_label_drift: float = 0.15

    def validate(self) -> None:
        _check(0.0 <= self.max_label_drift <= 1.0, "validation.max_label_drift", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class GateConfig:
    """When the Evaluator blesses a model."""

    min_accuracy: float = 0.80
    max_accuracy_drop: float = 0.02
    max_tflite_drop: float = 0.02  # The int8 TFLite model is pushed only this close to the SavedModel's accuracy.

    def validate(self) -> None:
        _check(0.0 <= self.min_accuracy <= 1.0, "gate.min_accuracy", "must be in [0, 1]")
        _check(0.0 <= self.max_accuracy_drop <= 1.0, "gate.max_accuracy_drop", "must be in [0, 1]")
        _check(0.0 <= self.max_tflite_drop <= 1.0, "gate.max_tflite_drop", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class BeamConfig:
    """How the Beam steps (ingestion, statistics, evaluation) run."""

    runner: str = "direct"  # direct | dataflow
    direct_running_mode: str = "in_memory"  # in_memory | multi_threading | multi_processing
    direct_num_workers: int = 0  # 0 = one per core.
    extra_args: tuple[str, ...] = ()

    def validate(self) -> None:
        _check(self.runner in ("direct", "dataflow"), "beam.runner", "must be direct or dataflow")
        _check(self.direct_running_mode in ("in_memory", "multi_threading", "multi_processing"),
               "beam.direct_running_mode", "must be in_memory, multi_threading or multi_processing")
        _check(self.direct_num_workers >= 0, "beam.direct_num_workers", "must not be negative")


@dataclasses.dataclass(frozen=True)
class VertexConfig:
    """Where the pipeline runs on Google Cloud (Vertex AI Pipelines, Dataflow, TPU trainers)."""

    project: str = ""
    region: str = "us-central1"
    image: str = ""  # Pipeline container image URI.
    trainer_image: str = ""  # Trainer image (TPU build of TensorFlow); empty = the pipeline image.
    accelerator: str = "cpu"  # tpu-v2-8 | tpu-v3-8 | tpu-v5e-4 | gpu-<type>-<n> | cpu
    service_account: str = ""
    dataflow_machine_type: str = "n1-standard-4"
    dataflow_max_workers: int = 10
    model_display_name: str = ""  # Push each blessed model as a new version of this Model Registry model
    endpoint_display_name: str = ""  # (instead of the serving dir), and deploy it to this endpoint if set.
    schema_uri: str = ""  # gs:// schema for classes or image sizes other than the curated schema's.

    def validate(self) -> None:
        _check(self.dataflow_max_workers >= 1, "vertex.dataflow_max_workers", "must be at least 1")
        # What a Vertex run needs of these fields (gs:// paths, a model before an endpoint) is checked when the
        # pipeline is compiled: pipeline/vertex/runner.py, check_deployable.


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """The whole pipeline: names, roots and one section per concern."""

    pipeline_name: str = "flowers"
    pipeline_root: str = "runs/pipeline"
    serving_dir: str = "runs/serving"
    enable_cache: bool = True
    data: DataConfig = DataConfig()
    training: TrainingConfig = TrainingConfig()
    validation: ValidationConfig = ValidationConfig()
    gate: GateConfig = GateConfig()
    beam: BeamConfig = BeamConfig()
    vertex: VertexConfig = VertexConfig()

    def __post_init__(self) -> None:
        _check(self.pipeline_name.replace("-", "").replace("_", "").isalnum(), "pipeline_name",
               "must be letters, digits, '-' or '_'")
        _check(self.pipeline_root != "", "pipeline_root", "must not be empty")
        _check(self.serving_dir != "", "serving_dir", "must not be empty")
        for section in _sections(self):
            _check_types(section, getattr(self, section))
            getattr(self, section).validate()

    @property
    def metadata_path(self) -> str:
        """SQLite ML Metadata of local runs, kept beside the artifacts it describes."""
        return os.path.join(self.pipeline_root, "metadata.sqlite")

    def with_overrides(self, overrides: Mapping[str, Any]) -> "PipelineConfig":
        """A copy with `{"section.field": value}` applied; string values are parsed to the field's type."""
        changes: dict[str, dict[str, Any]] = {}
        for dotted, value in overrides.items():
            section, name = _split_dotted(dotted)
            target = getattr(self, section) if section else self
            parsed = _parse(dotted, _field_type(type(target), name), value)
            changes.setdefault(section, {})[name] = parsed
        top = changes.pop("", {})
        for section, fields in changes.items():
            top[section] = dataclasses.replace(getattr(self, section), **fields)
        return dataclasses.replace(self, **top)


def field_names() -> list[str]:
    """Every dotted field name that `--set` and the environment accept."""
    default = PipelineConfig()
    names = [f.name for f in dataclasses.fields(default) if f.name not in _sections(default)]
    for section in _sections(default):
        names += [f"{section}.{f.name}" for f in dataclasses.fields(getattr(default, section))]
    return names


def env_var_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """Overrides from `FLOWERS_*` environment variables; an unknown FLOWERS_ variable is an error."""
    known = {env_var_name(name): name for name in field_names()}
    unknown = sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise ConfigError(f"unknown environment variable(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")
    return {known[k]: v for k, v in environ.items() if k in known}


def parse_assignments(assignments: list[str], flag: str = "--set",
                      form: str = "FIELD=VALUE, e.g. training.epochs=3") -> dict[str, str]:
    """`["training.epochs=3", ...]` as a dict; a malformed item names itself and its flag."""
    result = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{flag} {item!r}: expected {form}")
        result[name.strip()] = value
    return result


def load_config(overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> PipelineConfig:
    """Defaults, then environment variables, then explicit overrides (CLI flags and --set)."""
    merged: dict[str, Any] = env_overrides(os.environ if environ is None else environ)
    merged.update(overrides or {})
    return PipelineConfig().with_overrides(merged)


def _check(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{field}: {message}")


def _check_types(section: str, values: Any) -> None:
    """Each field holds its declared type, and every float is finite: inf and nan pass `x > 0` checks."""
    for field in dataclasses.fields(values):
        kind, value = _field_type(type(values), field.name), getattr(values, field.name)
        dotted = f"{section}.{field.name}"
        if kind is float:
            _check(isinstance(value, (int, float)) and not isinstance(value, bool), dotted, "must be a number")
            _check(math.isfinite(value), dotted, f"must be a finite number, not {value!r}")
        elif kind in (int, bool, str):
            _check(isinstance(value, kind) and (kind is bool or not isinstance(value, bool)), dotted,
                   f"must be {'an' if kind is int else 'a'} {kind.__name__}, not {value!r}")


def _sections(config: PipelineConfig) -> list[str]:
    return [f.name for f in dataclasses.fields(config) if dataclasses.is_dataclass(f.default)]


def _split_dotted(dotted: str) -> tuple[str, str]:
    if dotted not in field_names():
        raise ConfigError(f"unknown setting {dotted!r}; known settings: {', '.join(field_names())}")
    section, _, name = dotted.rpartition(".")
    return section, name


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _parse(dotted: str, kind: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return tuple(value) if typing.get_origin(kind) is tuple else value
    try:
        if kind is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if kind in (int, float, str):
            return kind(value.replace("_", "") if kind is not str else value)
        if typing.get_origin(kind) is tuple:
            return tuple(v.strip() for v in value.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{dotted}: {value!r} is not a valid {getattr(kind, '__name__', kind)}") from None
    raise ConfigError(f"{dotted}: unsupported type {kind}")
