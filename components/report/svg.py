"""Inline SVG line charts (training curves, reliability diagram, accuracy against coverage, version history): no
plotting library, no external assets."""

from __future__ import annotations

import html
import math
from typing import Optional, Sequence

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_W, _H, _PAD = 540, 240, 40
_LEGEND = 130  # Room on the right for the series names, clear of the lines.
Points = Sequence[tuple[float, float]]


def line_chart(title: str, series: dict[str, list[float]]) -> str:
    """One SVG with a polyline per named series over epochs 1..n, axes labelled with the value range."""
    return xy_chart(title, {name: [(i + 1, v) for i, v in enumerate(points)] for name, points in series.items()},
                    x_label="epoch")


def xy_chart(title: str, series: dict[str, Points], x_label: str = "", y_label: str = "",
             x_range: Optional[tuple[float, float]] = None, y_range: Optional[tuple[float, float]] = None,
             diagonal: bool = False, marks: Sequence[tuple[float, float, str]] = ()) -> str:
    """A polyline with dots per named series; ranges default to the data's. `diagonal` draws y = x (a perfectly
    calibrated model's line), `marks` ring and label chosen points (a threshold)."""
    points = [p for line in series.values() for p in line if _finite(p[0]) and _finite(p[1])]
    if not points:
        return ""
    frame = _Frame(x_range or _span([x for x, _ in points]), y_range or _span([y for _, y in points]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<text x="{(_W - _LEGEND) / 2}" y="16" text-anchor="middle" font-weight="bold">'
             f'{html.escape(title)}</text>',
             frame.axes(x_label, y_label)]
    if diagonal:
        parts.append(frame.segment(frame.x_range[0], frame.x_range[0], frame.x_range[1], frame.x_range[1]))
    for i, (name, line) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        parts.append(frame.polyline(line, color))
        parts.append(f'<text x="{_W - _LEGEND + 10}" y="{34 + 14 * i}" fill="{color}" font-size="12">'
                     f'{html.escape(name)}</text>')
    parts += [frame.mark(x, y, label) for x, y, label in marks if _finite(x) and _finite(y)]
    parts.append("</svg>")
    return "".join(parts)


class _Frame:
    """Maps data coordinates into the plot area."""

    left, right, top, bottom = _PAD + 14, _W - _LEGEND, _PAD / 1.5 + 8, _H - _PAD  # Room for "0.000948".

    def __init__(self, x_range: tuple[float, float], y_range: tuple[float, float]):
        self.x_range, self.y_range = x_range, y_range

    def at(self, x: float, y: float) -> tuple[float, float]:
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return (self.left + (x - x0) / (x1 - x0) * (self.right - self.left),
                self.bottom - (y - y0) / (y1 - y0) * (self.bottom - self.top))

    def axes(self, x_label: str, y_label: str) -> str:
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        left, right, top, bottom = self.left, self.right, self.top, self.bottom
        return (f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>'
                f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#555"/>'
                f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="11">{y1:.3g}</text>'
                f'<text x="{left - 4}" y="{bottom}" text-anchor="end" font-size="11">{y0:.3g}</text>'
                f'<text x="{left}" y="{bottom + 16}" font-size="11">{html.escape(_tick(x_label, x0))}</text>'
                f'<text x="{right}" y="{bottom + 16}" text-anchor="end" font-size="11">'
                f'{html.escape(_tick(x_label, x1))}</text>'
                f'<text x="{left + 4}" y="{top + 12}" font-size="11" fill="#555">{html.escape(y_label)}</text>')

    def segment(self, xa: float, ya: float, xb: float, yb: float) -> str:
        (x1, y1), (x2, y2) = self.at(xa, ya), self.at(xb, yb)
        return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#aaa" stroke-dasharray="4 3"/>'

    def polyline(self, line: Points, color: str) -> str:
        coords = [self.at(x, y) for x, y in line if _finite(x) and _finite(y)]
        text = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in coords)
        return f'<polyline points="{text}" fill="none" stroke="{color}" stroke-width="2"/>{dots}'

    def mark(self, x: float, y: float, label: str) -> str:
        cx, cy = self.at(x, y)
        return (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="none" stroke="#000" stroke-width="2"/>'
                f'<text x="{cx - 8:.1f}" y="{cy + 18:.1f}" text-anchor="end" font-size="11">'
                f'{html.escape(label)}</text>')


def _span(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    return (low - 0.5, high + 0.5) if high - low < 1e-9 else (low, high)


def _tick(label: str, value: float) -> str:
    return f"{label} {value:.3g}" if label else f"{value:.3g}"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
