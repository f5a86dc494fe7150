"""Model registry: every module in this package with a `build(spec, options)` function is a model, named by its
file; a model kept elsewhere is named by its module's dotted path (`my_models.resnet`).

Adding a model is adding one file. Its module holds the whole contract:
- `build(spec: ModelSpec, options: Options) -> tf.keras.Model`, taking pixels in [0, 1] and giving probabilities;
- optionally `Options`, a frozen dataclass extending `options.Options`: the model's own settings
  (`training.model_options.<model>.<option>`) with their defaults and checks;
- optionally a model built in parts (`parts.compose`), which the Trainer runs on cached features and fine-tunes.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from typing import Any, Callable, Mapping

from components.errors import ConfigError, UserError
from components.training import autograph
from components.training.models.options import Options

autograph.exclude_tf_keras()  # Every path that builds a model trains or serves it.


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the Trainer asks of every builder; a model ignores `fine_tune_layers` if it has no backbone to tune."""

    image_size: int
    num_classes: int
    fine_tune_layers: int = 0  # Top backbone layers trained in the fine-tuning phase.


def names() -> list[str]:
    """Registered model names, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if hasattr(_module(m.name), "build"))


def builder(name: str) -> Callable:
    """The `build(spec, options) -> tf.keras.Model` of a model; an unknown name lists the registered ones."""
    return _model_module(name).build


def build(name: str, spec: ModelSpec, options: Options | None = None):
    """The model, with `options` (default: its module's defaults)."""
    return builder(name)(spec, options_class(name)() if options is None else options)


def options_class(name: str) -> type[Options]:
    """The model's `Options` (the empty `Options` for a model that declares none)."""
    return getattr(_model_module(name), "Options", Options)


def options_for(name: str, values: Mapping[str, Any]) -> Options:
    """The model's options from plain values: its defaults, then `values`, type-coerced and validated."""
    return options_class(name).from_dict(name, values)


def option_types(name: str) -> dict[str, Any]:
    """Each option of the model with its type, to parse `--set training.model_options.<name>.<option>=text`."""
    return typing.get_type_hints(options_class(name))


def description(name: str) -> str:
    """The first line of the model module's docstring."""
    return (_model_module(name).__doc__ or "").strip().splitlines()[0]


def _model_module(name: str):
    module = _importable(name)
    if not hasattr(module, "build"):
        raise UserError(f"training.model: unknown model {name!r}; known models: {', '.join(names())} "
                        "(or the dotted path of a module with a build(spec, options) function)")
    return module


def _importable(name: str):
    """The module `name` stands for, or None where there is none. A module that exists but fails to import (it
    raises, its own imports fail, it calls sys.exit) is a ConfigError carrying that module's own error."""
    if not all(part.isidentifier() for part in name.split(".")):
        return None
    path = _module_path(name)
    try:
        return _module(name)
    except ModuleNotFoundError as error:
        if error.name and (path == error.name or path.startswith(error.name + ".")):  # The module itself.
            return None
        raise _import_failed(name, error) from None
    except (Exception, SystemExit) as error:
        raise _import_failed(name, error) from None


def _import_failed(name: str, error: BaseException) -> ConfigError:
    what = f"called sys.exit({error.code!r})" if isinstance(error, SystemExit) else \
        f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    return ConfigError(f"training.model: model module {_module_path(name)} failed to import: {what}")


def _module(name: str):
    return importlib.import_module(_module_path(name))


def _module_path(name: str) -> str:
    return name if "." in name else f"{__name__}.{name}"
