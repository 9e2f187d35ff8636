"""The latest statuses as the API serves them: from the app's short-lived cache, and rendered
to JSON once per refresh, for the status route, one SLO's status and the fast path alike."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fastapi.responses import Response

from srekit.contracts import status_document
from srekit.core.status import SloStatus

if TYPE_CHECKING:
    from srekit.api.deps import ApiState

__all__ = ["latest_statuses", "status_response"]


async def latest_statuses(state: ApiState, service: str | None) -> list[SloStatus]:
    """Every SLO's (or `service`'s) latest status, from the app's short-lived cache."""
    statuses = await state.statuses.get()
    return statuses if service is None else [s for s in statuses if s.service == service]


async def status_response(state: ApiState, service: str | None) -> Response:
    """The status JSON, rendered once per refresh of the statuses and per `service` filter.

    Dashboards poll this; rendering 100 statuses costs milliseconds, serving bytes does not.
    """
    statuses = await state.statuses.get()
    key = (id(statuses), service)
    cached = state.rendered.get(key)
    if cached is None:
        chosen = statuses if service is None else [s for s in statuses if s.service == service]
        body = json.dumps(
            [status_document(s) for s in chosen],
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        ).encode()
        if len(state.rendered) > 256 or any(k[0] != id(statuses) for k in state.rendered):
            state.rendered.clear()  # a new refresh: what was rendered before is out of date
        state.rendered[key] = cached = (statuses, body)
    return Response(cached[1], media_type="application/json")
