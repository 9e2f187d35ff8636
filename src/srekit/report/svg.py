"""Small SVG charts written in Python, inline in the report's HTML and PDF: no script, no
external request. The burn-down chart draws an SLO's error budget left at the end of each
day, with the zero line; a day without data leaves a gap."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

__all__ = ["burn_down_svg"]


def _y(remaining: float, *, top: float, height: float, low: float, high: float) -> float:
    return top + (high - remaining) / (high - low) * height


def burn_down_svg(
    remaining: Sequence[float | None], *, title: str, width: int = 220, height: int = 90
) -> str:
    """An SVG of the budget left per day (fractions, 1.0 full, below 0 overspent): a line per
    run of days with data, the 0 % line dashed, the first and last value as labels."""
    pad, top, bottom = 6.0, 16.0, 12.0
    plot_h = height - top - bottom
    known = [value for value in remaining if value is not None]
    low, high = min([0.0, *known]), max([1.0, *known])
    step = (width - 2 * pad) / max(len(remaining) - 1, 1)
    runs: list[list[str]] = [[]]
    for index, value in enumerate(remaining):
        if value is None:
            runs.append([])
            continue
        y = _y(value, top=top, height=plot_h, low=low, high=high)
        runs[-1].append(f"{pad + index * step:.1f},{y:.1f}")
    label = escape(title, {'"': "&quot;"})
    zero = _y(0.0, top=top, height=plot_h, low=low, high=high)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{label}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#fff"'
        ' stroke="#ccc"/>',
        f'<text x="{pad}" y="11" font-size="9" fill="#333">{escape(title)}</text>',
        f'<line x1="{pad}" y1="{zero:.1f}" x2="{width - pad}" y2="{zero:.1f}" stroke="#c00"'
        ' stroke-dasharray="3,2" stroke-width="0.8"/>',
    ]
    for run in runs:
        if len(run) == 1:
            cx, cy = run[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="1.6" fill="#1f5fa8"/>')
        elif run:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="#1f5fa8"'
                ' stroke-width="1.5"/>'
            )
    if known:
        parts.append(
            f'<text x="{width - pad}" y="{height - 2}" font-size="8" text-anchor="end"'
            f' fill="#333">{known[-1] * 100:.1f} % left</text>'
        )
    else:
        parts.append(
            f'<text x="{width / 2}" y="{top + plot_h / 2}" font-size="9" text-anchor="middle"'
            ' fill="#777">no data</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
