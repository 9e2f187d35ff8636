"""SVG written in Python for the dashboard, the status page and badges.

Every function returns a whole `<svg>` element as text: escaped (labels and titles go through
`xml.sax.saxutils`), deterministic (the same input gives the same bytes: coordinates are
rounded to 2 decimals), sized by its `viewBox` (the page's CSS scales it), and titled for
screen readers (`role="img"`, `aria-label`, `<title>`). Colours are fill attributes, so an
SVG saved alone (a badge) looks the same as inline.

- `sparkline`: a line over a series; missing values break the line.
- `budget_bar`: the remaining share of a budget, coloured by thresholds.
- `day_bars`: N daily bars, each coloured by its value against an objective.
- `heatmap`: a grid of coloured cells with row labels.
- `badge`: a shields-style badge (label | message), widths from a character-width table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "BUDGET_COLOURS",
    "COLOURS",
    "HeatCell",
    "badge",
    "budget_bar",
    "budget_colour",
    "day_bars",
    "heatmap",
    "sparkline",
    "text_width",
]

_NS = "http://www.w3.org/2000/svg"

#: The palette, named by meaning (readable on light and dark backgrounds).
COLOURS: dict[str, str] = {
    "good": "#2e7d32",
    "warn": "#b26a00",
    "bad": "#c62828",
    "none": "#8a8f98",
    "track": "#d5d8dc",
    "line": "#1f6feb",
    "label": "#555555",
}

#: Remaining-budget thresholds, highest first: a share above the floor takes the colour.
BUDGET_COLOURS: tuple[tuple[float, str], ...] = ((0.5, "good"), (0.25, "warn"))


def _n(value: float) -> str:
    """A coordinate: at most 2 decimals, no trailing zeros, never `-0`. A page of the SLO
    list formats 3,000, so the cases are spelled out rather than stripped."""
    text = f"{value:.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    elif text.endswith("0") and "." in text:
        text = text[:-1]
    return "0" if text == "-0" else text


@lru_cache(maxsize=256)
def _open(width: float, height: float, label: str | None, css: str) -> str:
    """The opening tag and title; without a `label`, hidden from screen readers (the page
    says the same in text beside it)."""
    size = f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}"'
    if label is None:
        return f'<svg xmlns="{_NS}" {size} aria-hidden="true" class={quoteattr(css)}>'
    return (
        f'<svg xmlns="{_NS}" {size} role="img" aria-label={quoteattr(label)}'
        f" class={quoteattr(css)}><title>{escape(label)}</title>"
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def sparkline(
    values: Sequence[float | None],
    *,
    width: float = 100,
    height: float = 20,
    low: float | None = None,
    high: float | None = None,
    label: str = "trend",
) -> str:
    """A line through `values`, left to right over `width`; `low`..`high` (default: the
    values' own range) maps to the bottom..top, 1 unit inside the edges. Missing (None or
    non-finite) values break the line; a lone value between gaps is drawn as a dot."""
    return _sparkline(tuple(values), width=width, height=height, low=low, high=high, label=label)


@lru_cache(maxsize=4096)
def _sparkline(
    values: tuple[float | None, ...],
    *,
    width: float,
    height: float,
    low: float | None,
    high: float | None,
    label: str,
) -> str:
    """`sparkline`, remembered: a list page draws the same 30-day lines request after
    request (they change once a day), and 50 of them cost a page several milliseconds."""
    known = [v for v in (_finite(v) for v in values) if v is not None]
    out = [_open(width, height, label, "spark")]
    if known:
        bottom = min(known) if low is None else low
        top = max(known) if high is None else high
        step = width / (len(values) - 1) if len(values) > 1 else 0.0
        runs: list[list[tuple[float, float]]] = [[]]
        for index, raw in enumerate(values):
            value = _finite(raw)
            if value is None:
                if runs[-1]:
                    runs.append([])
                continue
            share = (
                0.5 if top == bottom else (min(max(value, bottom), top) - bottom) / (top - bottom)
            )
            x = index * step if len(values) > 1 else width / 2
            runs[-1].append((x, height - 1 - share * (height - 2)))
        for run in runs:
            if len(run) == 1:
                x, y = run[0]
                out.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="1" fill="{COLOURS["line"]}"/>')
            elif run:
                points = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
                out.append(
                    f'<polyline points="{points}" fill="none" stroke="{COLOURS["line"]}"'
                    ' stroke-width="1.5" stroke-linejoin="round"'
                    ' vector-effect="non-scaling-stroke"/>'
                )
    out.append("</svg>")
    return "".join(out)


def budget_colour(remaining: float | None) -> str:
    """The palette name for a remaining share: `none` without one, then `BUDGET_COLOURS`,
    `bad` below the last floor."""
    if remaining is None or not math.isfinite(remaining):
        return "none"
    return next((name for floor, name in BUDGET_COLOURS if remaining > floor), "bad")


def budget_bar(
    remaining: float | None,
    *,
    width: float = 100,
    height: float = 10,
    label: str | None = None,
    decorative: bool = False,
) -> str:
    """The remaining share of a budget as a filled bar over a track: the fill is
    `clamp(remaining, 0, 1) × width` wide (an overspent budget shows an empty bar, coloured
    `bad`); no value draws the track alone. A `decorative` bar has no title and is hidden
    from screen readers: for a page that prints the figure beside it."""
    colour = budget_colour(remaining)
    known = remaining if colour != "none" else None
    text = label or ("no budget figure" if known is None else f"{known:.1%} of budget left")
    out = [
        _open(width, height, None if decorative else text, "budget"),
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="{COLOURS["track"]}"/>',
    ]
    if known is not None:
        filled = min(max(known, 0.0), 1.0) * width
        out.append(
            f'<rect x="0" y="0" width="{_n(filled)}" height="{_n(height)}"'
            f' fill="{COLOURS[colour]}" class="budget-{colour}"/>'
        )
    out.append("</svg>")
    return "".join(out)


def day_bars(
    values: Sequence[float | None],
    *,
    objective: float,
    titles: Sequence[str] | None = None,
    width: float = 300,
    height: float = 24,
    gap: float = 1,
    label: str = "daily",
) -> str:
    """One bar per value, left to right, `(width − gap × (N − 1)) / N` wide and full height:
    `good` when the value meets `objective`, `bad` when it misses, `none` without a value.
    `titles` (one per value) become each bar's tooltip."""
    count = len(values)
    bar = (width - gap * (count - 1)) / count if count else 0.0
    out = [_open(width, height, label, "days")]
    for index, raw in enumerate(values):
        value = _finite(raw)
        colour = "none" if value is None else ("good" if value >= objective else "bad")
        title = titles[index] if titles is not None and index < len(titles) else None
        x = index * (bar + gap)
        rect = (
            f'<rect x="{_n(x)}" y="0" width="{_n(bar)}" height="{_n(height)}"'
            f' fill="{COLOURS[colour]}" class="day-{colour}"'
        )
        out.append(f"{rect}><title>{escape(title)}</title></rect>" if title else f"{rect}/>")
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class HeatCell:
    """One cell of a heatmap: its palette colour name and its tooltip."""

    colour: str
    title: str


def heatmap(
    rows: Sequence[tuple[str, Sequence[HeatCell]]],
    *,
    cell: float = 12,
    gap: float = 2,
    font_size: float = 11,
    label: str = "heatmap",
) -> str:
    """A grid: one row per `(label, cells)`, the row's label at the left (as wide as the widest
    label, by `text_width`), then its cells, each `cell` square and `gap` apart."""
    label_w = max((text_width(name, size=font_size) for name, _ in rows), default=0.0)
    left = math.ceil(label_w) + 6 if rows else 0
    columns = max((len(cells) for _, cells in rows), default=0)
    width = left + columns * (cell + gap)
    height = len(rows) * (cell + gap)
    out = [_open(max(width, 1), max(height, 1), label, "heat")]
    for row, (name, cells) in enumerate(rows):
        y = row * (cell + gap)
        out.append(
            f'<text x="{_n(left - 6)}" y="{_n(y + cell - 2)}" text-anchor="end"'
            f' font-size="{_n(font_size)}" fill="currentColor">{escape(name)}</text>'
        )
        for column, item in enumerate(cells):
            x = left + column * (cell + gap)
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(cell)}" height="{_n(cell)}"'
                f' fill="{COLOURS.get(item.colour, COLOURS["none"])}"'
                f' class="heat-{escape(item.colour)}"><title>{escape(item.title)}</title></rect>'
            )
    out.append("</svg>")
    return "".join(out)


# Advance widths of Verdana at 11 px (shields.io's badge font), rounded to 0.1 px; a
# character not listed counts as `_DEFAULT_WIDTH`. Measured once, written here, so a badge's
# geometry is the same on every machine (no font is read at run time).
_WIDTHS: dict[str, float] = {
    **dict.fromkeys(" ", 3.9),
    **dict.fromkeys("!|.,:;'", 4.0),
    **dict.fromkeys("ijl", 3.1),
    **dict.fromkeys("frt", 4.8),
    **dict.fromkeys("()[]{}-/\\", 5.0),
    **dict.fromkeys("Iz", 5.8),
    **dict.fromkeys("ackvxy", 6.2),
    **dict.fromkeys("s", 5.8),
    **dict.fromkeys("bdeghnopqu", 6.9),
    **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys("%", 12.0),
    **dict.fromkeys("JL", 6.2),
    **dict.fromkeys("EFPSTYZ", 7.0),
    **dict.fromkeys("ABKRVX", 7.6),
    **dict.fromkeys("CDGHNOQU", 8.4),
    **dict.fromkeys("mM", 10.7),
    **dict.fromkeys("wW", 9.0),
}
_DEFAULT_WIDTH = 7.0


def text_width(text: str, *, size: float = 11) -> float:
    """The width of `text` in Verdana at `size` px, from the table above (scaled from 11)."""
    return sum(_WIDTHS.get(char, _DEFAULT_WIDTH) for char in text) * size / 11


_BADGE_PAD = 6  # px each side of a text


def badge(label: str, message: str, *, colour: str) -> str:
    """A shields-style badge, 20 px high: `label` on grey, `message` on `colour` (a palette
    name, or a `#rrggbb` colour). Each part is its text's width plus 6 px either side, rounded
    up to a whole pixel."""
    fill = COLOURS.get(colour, colour)
    if not (fill.startswith("#") and len(fill) == 7):
        fill = COLOURS["none"]
    left = math.ceil(text_width(label)) + 2 * _BADGE_PAD
    right = math.ceil(text_width(message)) + 2 * _BADGE_PAD
    width = left + right
    text = f"{label}: {message}"
    return (
        f'<svg xmlns="{_NS}" viewBox="0 0 {width} 20" width="{width}" height="20" role="img"'
        f" aria-label={quoteattr(text)}><title>{escape(text)}</title>"
        f'<rect width="{left}" height="20" fill="{COLOURS["label"]}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{fill}"/>'
        '<g fill="#ffffff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif"'
        ' font-size="11">'
        f'<text x="{_n(left / 2)}" y="14">{escape(label)}</text>'
        f'<text x="{_n(left + right / 2)}" y="14">{escape(message)}</text>'
        "</g></svg>"
    )
