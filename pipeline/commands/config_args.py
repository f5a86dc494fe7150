"""The central place to define config flags: every command that builds a config takes them the same way.

A setting comes from, later ones winning: the defaults in pipeline_config.py, `FLOWERS_<SECTION>_<FIELD>`
environment variables, the shortcut flags below (`--epochs 3` is `training.epochs=3`), then `--set FIELD=VALUE`.
A repeatable shortcut (`--beam-arg`) adds its items to the field's list instead of replacing it.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Iterable, Optional

import pipeline_config
from components.training.settings import model_option


@dataclasses.dataclass(frozen=True)
class Shortcut:
    """A flag that sets one dotted config field, so a bad value is reported under the field's name."""

    flag: str
    field: str
    help: str
    const: Optional[str] = None  # A switch: given, it sets the field to this value.
    repeatable: bool = False  # Each use adds one item to the field's list.
    choices: Optional[tuple[str, ...]] = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def add_to(self, group) -> None:
        if self.const is not None:
            group.add_argument(self.flag, action="store_const", const=self.const,
                               help=f"{self.help} ({self.field}={self.const})")
        elif self.repeatable:
            group.add_argument(self.flag, action="append", metavar="ARG",
                               help=f"{self.help} (adds to {self.field}; repeatable)")
        else:
            group.add_argument(self.flag, choices=self.choices, help=f"{self.help} ({self.field})")

    def given(self, args: argparse.Namespace) -> Any:
        """The flag's value, or None when the command has no such flag or it was not given."""
        return getattr(args, self.dest, None)


SHORTCUTS = (
    Shortcut("--data-root", "data.data_root", "folder of <class>/<photo> files, local or gs://"),
    Shortcut("--image-size", "data.image_size", "side of the square records in pixels"),
    Shortcut("--eval-fraction", "data.eval_fraction", "share of photos in the eval split"),
    Shortcut("--max-rejected-fraction", "data.max_rejected_fraction",
             "fail ingestion when more photos than this are rejected"),
    Shortcut("--pipeline-root", "pipeline_root", "where artifacts and ML Metadata live"),
    Shortcut("--serving-dir", "serving_dir", "where blessed models are pushed"),
    Shortcut("--model", "training.model", "registered model name, as `flowers-pipeline models` lists them"),
    Shortcut("--weights", model_option("{model}", "weights"), "the chosen model's weights: imagenet, none or a file"),
    Shortcut("--epochs", "training.epochs", "training epochs"),
    Shortcut("--min-accuracy", "gate.min_accuracy", "gate: lowest eval accuracy that can be blessed"),
    Shortcut("--max-accuracy-drop", "gate.max_accuracy_drop",
             "gate: largest accuracy drop allowed against the baseline"),
    Shortcut("--accept-drift", "validation.max_label_drift",
             "train on this run's label mix however far it moved", const="1"),
    Shortcut("--beam-arg", "beam.extra_args", "Beam pipeline option, written with '=', e.g. "
             "--beam-arg=--direct_running_mode=multi_processing", repeatable=True),
)
# Where the pipeline runs on Google Cloud: only the commands that compile or send it (cloud_args.py) add these.
VERTEX_SHORTCUTS = (
    Shortcut("--project", "vertex.project", "Google Cloud project"),
    Shortcut("--region", "vertex.region", "Vertex AI and Dataflow region"),
    Shortcut("--image", "vertex.image", "pipeline image URI (Dockerfile), used by every step"),
    Shortcut("--trainer-image", "vertex.trainer_image", "Trainer image URI; required for TPUs (Dockerfile.tpu)"),
    Shortcut("--accelerator", "vertex.accelerator", "Trainer hardware: cpu, tpu-v2-8, tpu-v3-8, tpu-v5e-{1,4,8} "
             "or gpu-<type>-<count>, e.g. gpu-nvidia-tesla-t4-1"),
    Shortcut("--beam-runner", "beam.runner", "where the Beam steps run", choices=("direct", "dataflow")),
    Shortcut("--service-account", "vertex.service_account", "service account the runs, jobs and workers act as"),
)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "settings (defaults < FLOWERS_* environment variables < these flags < --set)")
    add_shortcuts(group, SHORTCUTS)
    group.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                       help="any config field by its dotted name, e.g. training.batch_size=32 (repeatable)")


def add_shortcuts(group, shortcuts: Iterable[Shortcut]) -> None:
    for shortcut in shortcuts:
        shortcut.add_to(group)


def given_shortcuts(args: argparse.Namespace) -> list[Shortcut]:
    return [s for s in (*SHORTCUTS, *VERTEX_SHORTCUTS) if s.given(args) is not None]


def config_from_args(args: argparse.Namespace, *, check_model: bool = True,
                     weights_read_here: bool = False) -> pipeline_config.PipelineConfig:
    """Defaults, environment, then these flags; raises ConfigError naming the field before anything runs.

    `check_model`: the command builds the DAG, so the model must be a registered one. `weights_read_here`: the
    Trainer runs on this machine (`run`), so the files the model's options name (a weights file) must be readable
    here. A shortcut of a model option (`--weights`) sets that option of the chosen model.
    """
    given = given_shortcuts(args)
    overrides = {s.field: s.given(args) for s in given if not s.repeatable and "{model}" not in s.field}
    overrides.update(pipeline_config.parse_assignments(args.set))
    config = pipeline_config.load_config(overrides)
    if check_model:
        from components.training import models  # Only the commands that build the pipeline import TensorFlow.

        _as_config_error(models.builder, config.training.model)
    of_the_model = {s.field.format(model=config.training.model): s.given(args) for s in given if "{model}" in s.field}
    if of_the_model:
        config = pipeline_config.load_config({**of_the_model, **overrides})
    additions = {s.field: (*_value(config, s.field), *s.given(args)) for s in given if s.repeatable}
    if additions:
        config = config.with_overrides(additions)
    if weights_read_here:
        _as_config_error(config.training.options().check_files)
    return config


def _as_config_error(check, *args) -> None:
    """Run a model check before anything runs, not in the Trainer, so a typo fails in a second instead of after
    ingestion; its UserError becomes the ConfigError the CLI reports as a usage error."""
    from components.errors import UserError

    try:
        check(*args)
    except UserError as error:
        raise pipeline_config.ConfigError(str(error)) from None


def positive_int(text: str) -> int:
    """argparse type of a count flag: `--batch-size 0` is a one-line usage error, not a traceback."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def _value(config: pipeline_config.PipelineConfig, dotted: str) -> Any:
    section, _, name = dotted.rpartition(".")
    return getattr(getattr(config, section) if section else config, name)
