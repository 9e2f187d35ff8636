"""A short road for the two hottest reads: `GET /api/v1/gate` and `GET /api/v1/status`.

Deploy pipelines poll the gate and dashboards poll the status many times a second; FastAPI's
per-request machinery (dependency solving, parameter models, its middleware stack) costs more
than the answer itself. This ASGI middleware answers those two requests directly when the
caller's token grants the role, calling the same functions the routes call, so the answers are
the routes' answers. Anything else (a bad token, a parameter the route would refuse, a store
that cannot be read) falls through to FastAPI, which answers as it always does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials
from starlette.types import ASGIApp, Receive, Scope, Send

from srekit.api.deps import ApiState, authenticate, bearer_token
from srekit.api.gatekeeper import answer_gate
from srekit.core.access import Role
from srekit.errors import SrekitError
from srekit.flows.gate import GateRequest

__all__ = ["HotPaths"]

_GATE = "/api/v1/gate"
_STATUS = "/api/v1/status"
_SERVICE_LIMIT = 200  # the status route's `max_length`


@dataclass(frozen=True)
class _RouteLabel:
    """What RequestMetrics reads from `scope["route"]`: the route template."""

    path: str


class HotPaths:
    """Answer gate and status GETs without FastAPI when the token is cached (see module doc)."""

    def __init__(self, app: ASGIApp, *, state: ApiState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or scope["method"] != "GET" or path not in (_GATE, _STATUS):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        role = Role.DEPLOY if path == _GATE else Role.VIEWER
        if token is None or not await self._allowed(token, role):
            await self.app(scope, receive, send)  # FastAPI answers 401/403/503 as usual
            return
        query = {
            key: values[-1]
            for key, values in parse_qs(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            ).items()
        }
        if path == _GATE:
            response = await self._gate(token, query)
        else:
            service = query.get("service")
            if service is not None and len(service) > _SERVICE_LIMIT:
                await self.app(scope, receive, send)  # the route answers 422
                return
            response = await self._status(service)
        scope["route"] = _RouteLabel(path)
        await response(scope, receive, send)

    async def _allowed(self, token: str, role: Role) -> bool:
        """The token grants `role` (a cache miss is looked up once, shared by all waiting)."""
        try:
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
            await authenticate(self.state, credentials, role)
        except (HTTPException, SrekitError):
            return False
        return True

    async def _gate(self, token: str, query: dict[str, str]) -> Any:
        request = GateRequest(
            service=query.get("service"),
            change_type=query.get("change_type"),
            version=query.get("version"),
            commit_time=query.get("commit_time"),
            fail_open=query.get("fail_open"),
            source="api",
        )
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        return await answer_gate(self.state, credentials, request, deny_status=200)

    async def _status(self, service: str | None) -> Any:
        from srekit.api.statuses import status_response

        return await status_response(self.state, service)
