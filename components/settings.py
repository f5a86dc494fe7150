"""What every settings dataclass handed to a component shares: building it from plain values, with their types.

Settings reach a component as JSON (a Trainer's `custom_config`, which Vertex carries as a protobuf Struct that
turns every number into a float), so `from_dict` coerces what can be coerced without loss (3.0 -> 3) and refuses
the rest naming the dotted field, then runs the dataclass' own `validate()`.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, Mapping, TypeVar

from components.errors import ConfigError

Settings = TypeVar("Settings")


def from_dict(cls: type[Settings], prefix: str, values: Mapping[str, Any]) -> Settings:
    """`cls` from `values` (fields left out keep their defaults), type-checked and validated; `prefix` is the
    dotted name of the section, e.g. "training", for the error messages."""
    kinds = typing.get_type_hints(cls)
    known = [field.name for field in dataclasses.fields(cls)]
    for name in values:
        check(name in known, f"{prefix}.{name}", f"unknown setting; known: {', '.join(known) or 'none'}")
    settings = cls(**{name: coerce(f"{prefix}.{name}", kinds[name], value) for name, value in values.items()})
    settings.validate()
    return settings


def coerce(field: str, kind: Any, value: Any) -> Any:
    """`value` as a `kind`: a whole float for an int, an int for a float, a list for a tuple; else it must already
    be one (`check_type`)."""
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    elif kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif typing.get_origin(kind) is tuple and isinstance(value, list):
        value = tuple(value)
    check_type(field, kind, value)
    return value


def check_type(field: str, kind: Any, value: Any) -> None:
    """The value holds its declared type, and a float is finite: inf and nan pass `x > 0` checks."""
    if kind is float:
        check(isinstance(value, (int, float)) and not isinstance(value, bool), field, "must be a number")
        check(math.isfinite(value), field, f"must be a finite number, not {value!r}")
    elif kind in (int, bool, str):
        check(isinstance(value, kind) and (kind is bool or not isinstance(value, bool)), field,
              f"must be {'an' if kind is int else 'a'} {kind.__name__}, not {value!r}")


def check(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{field}: {message}")
