"""The forecast as an SVG (or PNG): history, median, 80 % and 95 % bands, limit and headroom.

Written in Python like the web's charts (no plotting library); the adapter does not import the
web surface, so its few drawing lines are its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Band", "forecast_svg", "svg_to_png"]

WIDTH = 640
HEIGHT = 240
_PAD = 32


@dataclass(frozen=True)
class Band:
    """An interval around the median: lower and upper bounds at each forecast step."""

    level: int  # 80 or 95
    lower: Sequence[float]
    upper: Sequence[float]


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def forecast_svg(
    *,
    title: str,
    history: tuple[Sequence[float], Sequence[float]],
    forecast_at: Sequence[float],
    median: Sequence[float],
    bands: Sequence[Band],
    limit: float,
    headroom_level: float,
) -> str:
    """One SVG document; the y axis spans 0 to the largest of data, bands and limit."""
    history_at, history_values = history
    everything = [*history_values, *median, limit, headroom_level]
    for band in bands:
        everything.extend([*band.lower, *band.upper])
    finite = [v for v in everything if math.isfinite(v)]
    top = max([*finite, 1e-12]) * 1.05
    times = [t for t in (*history_at, *forecast_at) if math.isfinite(t)]
    start, end = (min(times), max(times)) if times else (0.0, 1.0)
    span = (end - start) or 1.0

    def x(t: float) -> float:
        return _PAD + (t - start) / span * (WIDTH - 2 * _PAD)

    def y(v: float) -> float:
        return HEIGHT - _PAD - max(0.0, v) / top * (HEIGHT - 2 * _PAD)

    def line(at: Sequence[float], values: Sequence[float], css: str) -> str:
        points = " ".join(
            f"{_n(x(t))},{_n(y(v))}" for t, v in zip(at, values, strict=True) if math.isfinite(v)
        )
        return f'<polyline class="{css}" fill="none" points="{points}"/>'

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
    ]
    for band in sorted(bands, key=lambda b: -b.level):
        upper = [f"{_n(x(t))},{_n(y(v))}" for t, v in zip(forecast_at, band.upper, strict=True)]
        lower = [f"{_n(x(t))},{_n(y(v))}" for t, v in zip(forecast_at, band.lower, strict=True)]
        opacity = "0.2" if band.level >= 95 else "0.35"
        parts.append(
            f'<polygon class="band-{band.level}" fill="#4c78a8" fill-opacity="{opacity}" '
            f'points="{" ".join(upper + lower[::-1])}"/>'
        )
    parts.append(line(history_at, history_values, "history").replace("/>", ' stroke="#333"/>'))
    parts.append(line(forecast_at, median, "median").replace("/>", ' stroke="#4c78a8"/>'))
    for css, level, colour in (
        ("limit", limit, "#d62728"),
        ("headroom", headroom_level, "#ff7f0e"),
    ):
        parts.append(
            f'<line class="{css}" x1="{_PAD}" x2="{WIDTH - _PAD}" y1="{_n(y(level))}" '
            f'y2="{_n(y(level))}" stroke="{colour}" stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg_to_png(svg: str) -> bytes:
    """The SVG rendered as PNG at its own size, by CairoSVG (Debian's libcairo2 underneath)."""
    import cairosvg

    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"))
    return png
