"""The HTML pieces every section of the report builds with: escaped text, tables and embedded photos."""

from __future__ import annotations

import base64
import html


def table(header: list[str], rows: list[tuple]) -> str:
    """A table; header cells are escaped here, row cells must be HTML already."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def jpeg_src(jpeg: bytes) -> str:
    """A data: URL, so the report stays one self-contained file."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def escape(text) -> str:
    return html.escape(str(text))
