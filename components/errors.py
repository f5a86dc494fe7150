"""Errors whose message alone tells the user what went wrong and what to do next."""

from __future__ import annotations

import unicodedata


class UserError(RuntimeError):
    """Bad input or settings, reported by the CLI as one clear line instead of a traceback."""


class ConfigError(UserError):
    """A setting is unknown or has an invalid value; the message names the dotted field (`training.epochs`); the
    CLI exits with status 2. Here rather than in `pipeline_config`, so that components can validate the settings
    they receive."""


class RunStopped(UserError):
    """A check stopped the run on purpose before training (anomalies, label drift): not a failure of the code."""


def printable(text: str, keep_newlines: bool = False) -> str:
    """`text` with control and format characters escaped (`\\x1b`, `\\n`, `\\u202e`), so that a file name
    can neither move the cursor, recolour the terminal nor forge a line of output."""
    return "".join(char if (char == "\n" and keep_newlines) or not _is_control(char) else _escaped(char)
                   for char in text)


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii") if ord(char) > 0xFF or char in "\t\n\r" \
        else f"\\x{ord(char):02x}"
