"""The Jinja environment of the dashboard and `render`, which every page calls.

Autoescape is on for every template, undefined names fail loudly, and the filters only format
(percentages, burn rates, durations, instants): every number is computed by a flow or `core`
before it reaches a template. Static files are named with a digest of their content
(`static_url`), so they are served with a year-long cache and still change when they do.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from srekit import __version__
from srekit.core.instant import format_instant
from srekit.web.nav import NAV

__all__ = ["STATIC_DIR", "STATIC_PREFIX", "environment", "render", "static_url"]

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/ui/static"

#: Sent with every page: scripts and styles from srekit itself only, no frames, forms post home.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none';"
    " object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def _digest(relative: str) -> str:
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def static_url(relative: str) -> str:
    """`/ui/static/<relative>?v=<content digest>`: cacheable for ever, new when it changes."""
    return f"{STATIC_PREFIX}/{relative}?v={_digest(relative)}"


def _percent(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}%}"


def _rate(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _duration(seconds: float | None) -> str:
    """As `srekit status` prints a time to exhaustion: 14.3d, 5.0h, 12m."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.0f}m"


def _instant(moment: datetime | None) -> str:
    return "—" if moment is None else format_instant(moment)


def _svg(text: str) -> Markup:
    """SVG from `web.svg`, which escapes what it writes: safe to insert as it is."""
    return Markup(text)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("srekit.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(percent=_percent, rate=_rate, duration=_duration, instant=_instant, svg=_svg)
    env.globals.update(static_url=static_url, nav=NAV, version=__version__)
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """`template` rendered with `context`, the request and its user (if any) added."""
    values = {
        "request": request,
        "user": getattr(request.state, "page_user", None),
        "active": None,
        **context,
    }
    body = environment().get_template(template).render(values)
    return HTMLResponse(body, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
