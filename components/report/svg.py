"""Inline SVG line charts for the training curves: no plotting library, no external assets."""

from __future__ import annotations

import html
import math

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
_W, _H, _PAD = 420, 240, 40


def line_chart(title: str, series: dict[str, list[float]]) -> str:
    """One SVG with a polyline per named series over epochs 1..n, axes labelled with the value range."""
    values = [v for points in series.values() for v in points if _finite(v)]
    if not values:
        return ""
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    length = max(len(points) for points in series.values())
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<text x="{_W / 2}" y="16" text-anchor="middle" font-weight="bold">{html.escape(title)}</text>',
             _axes(low, high, length)]
    for i, (name, points) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        parts.append(_polyline(points, low, high, length, color))
        parts.append(f'<text x="{_W - _PAD + 4 - 90}" y="{34 + 14 * i}" fill="{color}" font-size="12">'
                     f'{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _axes(low: float, high: float, length: int) -> str:
    left, right, top, bottom = _PAD, _W - _PAD / 2, _PAD / 1.5, _H - _PAD
    return (f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#555"/>'
            f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="11">{high:.3g}</text>'
            f'<text x="{left - 4}" y="{bottom}" text-anchor="end" font-size="11">{low:.3g}</text>'
            f'<text x="{left}" y="{bottom + 16}" font-size="11">epoch 1</text>'
            f'<text x="{right}" y="{bottom + 16}" text-anchor="end" font-size="11">epoch {length}</text>')


def _polyline(points: list[float], low: float, high: float, length: int, color: str) -> str:
    left, right, top, bottom = _PAD, _W - _PAD / 2, _PAD / 1.5, _H - _PAD
    step = (right - left) / max(length - 1, 1)
    coords = [(left + i * step, bottom - (v - low) / (high - low) * (bottom - top))
              for i, v in enumerate(points) if _finite(v)]
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in coords)
    return f'<polyline points="{text}" fill="none" stroke="{color}" stroke-width="2"/>{dots}'


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
