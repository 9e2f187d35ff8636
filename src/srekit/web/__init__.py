"""The dashboard: server-rendered pages (Jinja2, htmx) beside the API, on the same app.

`add_web` mounts it (`api.app.create_app` calls it). Pages read the same flows as the API and
render what they return: every number is computed once, in `core`.
"""

from __future__ import annotations

from srekit.web.app import add_web

__all__ = ["add_web"]
