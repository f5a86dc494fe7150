"""Paths are data, not patterns: a folder named `run[1]` or `photos*` must match itself in a file listing.

Beam's `FileSystems.match` and TensorFlow's `gfile.glob` read `[`, `*` and `?` as wildcards in every part of a
pattern, so a path is escaped before a wildcard is appended to it (both accept the `[[]` form `glob.escape` gives).
"""

from __future__ import annotations

import glob


def literal(path: str) -> str:
    """`path` as a pattern that matches only itself, ready for a wildcard to be appended."""
    return glob.escape(path)
