"""Reading the JSON and JSON-lines files components leave in their artifacts (local or gs://), leniently: a
missing file reads as nothing, so a report or a card shows what it can."""

from __future__ import annotations

import json
from typing import Any

from tfx.dsl.io import fileio


def read_json(path: str) -> Any:
    """The parsed file, or None when it is missing or not JSON (readers show what they can)."""
    if not path or not fileio.exists(path):
        return None
    try:
        with fileio.open(path, "r") as f:
            return json.loads(f.read())
    except (ValueError, OSError):
        return None


def read_jsonl(path: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` of the file's JSON objects, one a line (none when it is missing)."""
    if not path or not fileio.exists(path):
        return []
    rows = []
    with fileio.open(path, "r") as f:
        for line in f:
            if len(rows) >= limit:
                break
            if line.strip():
                rows.append(json.loads(line))
    return rows
