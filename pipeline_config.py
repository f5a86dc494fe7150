"""Every knob of the flowers pipeline, in one typed and validated object.

Settings travel one way: the CLI, environment variables (`FLOWERS_<SECTION>_<FIELD>`, e.g.
`FLOWERS_TRAINING_EPOCHS=3`) and `--set section.field=value` overrides build one `PipelineConfig`;
`create_pipeline()` turns it into component parameters. Components never read this module.
Invalid values fail at construction with a `ConfigError` naming the dotted field.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from pathlib import Path
from typing import Any, Mapping

from components.errors import ConfigError, UserError
from components.ingestion.settings import CODELAB_CLASSES  # noqa: F401 (the default data.classes, for callers)
from components.ingestion.settings import IngestSettings
from components.settings import check as _check, check_type
from components.training import DEFAULT_TARGET_ACCURACY
from components.training.settings import MODEL_OPTIONS, TrainingSettings, model_option

# Keras 2 (tf_keras) for the whole TFX 1.16 stack, set before TensorFlow loads wherever a process can start:
# pipeline/ (the CLI), components/ (Beam workers, the Trainer, Vertex containers), pipeline_config.py (scripts).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

PROJECT_DIR = Path(__file__).resolve().parent
BUNDLED_SAMPLE = PROJECT_DIR / "data" / "sample_flowers"
ENV_PREFIX = "FLOWERS_"


@dataclasses.dataclass(frozen=True)
class DataConfig(IngestSettings):
    """Where the photos are, and how ingestion makes them records (the fields of IngestSettings, as `data.*`)."""

    data_root: str = str(BUNDLED_SAMPLE)
    # Reuse the images of the newest examples for unchanged photos. Off by default: the earlier examples are an
    # input, and TFX keys its cache on every input, so each run after an ingestion ingests again (reusing every
    # image) and retrains even when no photo changed; worth it only when the photos change between most runs.
    incremental: bool = False

    def validate(self) -> None:
        _check(self.data_root != "", "data.data_root", "must not be empty")
        super().validate()


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
    # The accuracy on answered photos for which the Trainer picks the confidence threshold that `predict
    # --min-confidence auto` applies (CONFIDENCE_FILE); not a blessing condition.
    target_accuracy: float = DEFAULT_TARGET_ACCURACY

    def validate(self) -> None:
        _check(0.0 <= self.min_accuracy <= 1.0, "gate.min_accuracy", "must be in [0, 1]")
        _check(0.0 <= self.max_accuracy_drop <= 1.0, "gate.max_accuracy_drop", "must be in [0, 1]")
        _check(0.0 <= self.max_tflite_drop <= 1.0, "gate.max_tflite_drop", "must be in [0, 1]")
        _check(0.0 < self.target_accuracy <= 1.0, "gate.target_accuracy", "must be in (0, 1]")


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
    training: TrainingSettings = TrainingSettings()
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
        """A copy with `{"section.field": value}` (and `{"training.model_options.<model>.<option>": value}`)
        applied; string values are parsed to the field's type."""
        changes: dict[str, dict[str, Any]] = {}
        model_options = {dotted: value for dotted, value in overrides.items() if _is_model_option(dotted)}
        for dotted, value in overrides.items():
            if dotted in model_options:
                continue
            section, name = _split_dotted(dotted)
            target = getattr(self, section) if section else self
            parsed = _parse(dotted, _field_type(type(target), name), value)
            changes.setdefault(section, {})[name] = parsed
        top = changes.pop("", {})
        for section, fields in changes.items():
            top[section] = dataclasses.replace(getattr(self, section), **fields)
        if model_options:
            top["training"] = _with_model_options(top.get("training", self.training), model_options)
        return dataclasses.replace(self, **top)


def field_names() -> list[str]:
    """Every dotted field name that `--set` and the environment accept, but for the models' own options
    (`model_option_names`)."""
    default = PipelineConfig()
    names = [f.name for f in dataclasses.fields(default) if f.name not in _sections(default)]
    for section in _sections(default):
        names += [f"{section}.{f.name}" for f in dataclasses.fields(getattr(default, section))
                  if f"{section}.{f.name}" != MODEL_OPTIONS]
    return names


def model_option_names() -> list[str]:
    """`training.model_options.<model>.<option>` for every registered model (this imports the models)."""
    from components.training import models

    return [model_option(name, option) for name in models.names() for option in models.option_types(name)]


def env_var_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """Overrides from `FLOWERS_*` environment variables; an unknown FLOWERS_ variable is an error."""
    known = {env_var_name(name): name for name in field_names()}
    if any(k.startswith(env_var_name(MODEL_OPTIONS)) for k in environ):  # Only then are the models imported.
        known.update({env_var_name(name): name for name in model_option_names()})
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


def _check_types(section: str, values: Any) -> None:
    """Each field holds its declared type (`components.settings.check_type`)."""
    for field in dataclasses.fields(values):
        check_type(f"{section}.{field.name}", _field_type(type(values), field.name), getattr(values, field.name))


def _sections(config: PipelineConfig) -> list[str]:
    return [f.name for f in dataclasses.fields(config) if dataclasses.is_dataclass(f.default)]


def _split_dotted(dotted: str) -> tuple[str, str]:
    if dotted not in field_names():
        raise ConfigError(f"unknown setting {dotted!r}; known settings: {', '.join(field_names())} "
                          f"and {MODEL_OPTIONS}.<model>.<option> (see README)")
    section, _, name = dotted.rpartition(".")
    return section, name


def _is_model_option(dotted: str) -> bool:
    return dotted.startswith(MODEL_OPTIONS + ".")


def _with_model_options(training: TrainingSettings, overrides: Mapping[str, Any]) -> TrainingSettings:
    """`training` with `training.model_options.<model>.<option>` overrides, each parsed to the option's type as
    the model module declares it (so this imports that module)."""
    from components.training import models

    for dotted, value in overrides.items():
        model, _, option = dotted[len(MODEL_OPTIONS) + 1:].rpartition(".")
        try:
            kinds = models.option_types(model)
        except UserError as error:
            raise ConfigError(f"{dotted}: {error}") from None
        if option not in kinds:
            raise ConfigError(f"unknown setting {dotted!r}; the options of {model} are: {', '.join(kinds) or 'none'}")
        training = training.with_model_option(model, option, _parse(dotted, kinds[option], value))
    return training


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
        if kind in (int, float):
            return _strict_number(dotted, kind, value)
        if kind is str:
            return value
        if typing.get_origin(kind) is tuple:
            return tuple(v.strip() for v in value.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{dotted}: {value!r} is not a valid {getattr(kind, '__name__', kind)}") from None
    raise ConfigError(f"{dotted}: unsupported type {kind}")


# Plain decimal forms only: Python's int() and float() also take `1_0_0` and surrounding spaces. The names of
# the non-finite floats parse, so that they are refused by the finite-number check with its own message.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE)


def _strict_number(dotted: str, kind: type, value: str) -> Any:
    """`value` as an int or float in plain decimal form; a negative zero (`-0`, `-0.0`) is refused, since a
    sign on nothing is more likely a typo for another number than a way to write 0."""
    pattern = _INTEGER if kind is int else _FLOAT
    if not pattern.fullmatch(value):
        raise ConfigError(f"{dotted}: {value!r} is not a plain decimal {kind.__name__} "
                          f"(digits{'' if kind is int else ', a point and an exponent'}; no '_' or spaces)")
    number = kind(value)
    if number == 0 and value.startswith("-"):
        raise ConfigError(f"{dotted}: {value!r} is a negative zero; write 0")
    return number
