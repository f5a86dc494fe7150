"""How the run summary, the HTML report and the model card write numbers, counts and class names, so all say the
same."""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Optional, Sequence, Union

EDGE_NAMES = {"saved_model": "SavedModel", "float16": "float16 TFLite", "int8": "int8 TFLite"}


def fmt(value: Optional[float], digits: int = 3) -> str:
    """A number for people: fixed digits, '-' when unknown or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def count(n: int, noun: str) -> str:
    """'1 epoch', '10 epochs'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def whole_number(value: Optional[float]) -> str:
    """A count that may not have been recorded: '?' when unknown."""
    return "?" if value is None else str(int(value))


def threshold_text(value: Optional[float]) -> str:
    """A confidence threshold: four significant digits, so 0.9995 does not read as 1.000 ('-' when none)."""
    return "-" if value is None else f"{value:.4g}"


def percent(share: Optional[float]) -> str:
    """A share for people: '85%', '-' when unknown."""
    return "-" if share is None else f"{share:.0%}"


def megabytes(size: Optional[int]) -> str:
    return "-" if size is None else f"{size / 1e6:.1f} MB"


def edge_name(name: str) -> str:
    """An edge export model's key ('float16') as people call it ('float16 TFLite')."""
    return EDGE_NAMES.get(name, name)


def class_name(names: Union[Sequence[str], Mapping[int, str]], index: int) -> str:
    """The name of class `index`, or 'class <index>' when the names known do not include it."""
    try:
        return names[index]
    except (IndexError, KeyError):
        return f"class {index}"


def in_class_order(names: Iterable[str], classes: Sequence[str]) -> list[str]:
    """`names` in class-id order; names that are not classes come last, alphabetically."""
    order = {name: i for i, name in enumerate(classes)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))
