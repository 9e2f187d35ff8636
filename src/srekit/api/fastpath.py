"""A short road for the hottest requests: `GET /api/v1/gate`, `GET /api/v1/status` and
Alertmanager's `POST /api/v1/alertmanager`.

Deploy pipelines poll the gate, dashboards poll the status many times a second, and an alert
storm brings a webhook per group and interval; FastAPI's per-request machinery (route matching,
dependency solving, parameter and response models) costs more than the answer itself. This
ASGI middleware answers those requests directly when the caller's token grants the role,
calling the same functions the routes call, so the answers are the routes' answers. Anything
else (a bad token, a parameter or a payload the route would refuse, a store that cannot be
read) falls through to FastAPI, which answers as it always does; a webhook whose notification
fails is answered by the app's own error handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from srekit.api.deps import ApiState, authenticate, bearer_token
from srekit.api.gatekeeper import answer_gate
from srekit.api.intake import receive_webhook, silences_expiry
from srekit.api.schemas.alertmanager import ALERTMANAGER_PATH, WebhookIn
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
        if scope["type"] == "http" and scope["method"] == "POST" and path == ALERTMANAGER_PATH:
            await self._webhook(scope, receive, send)
            return
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

    async def _webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Alertmanager's webhook: a JSON body the payload model accepts, from a token that
        may ingest; what the route would refuse goes to the route, with the body as read."""
        token = bearer_token(scope)
        if token is None or not _json(scope) or not await self._allowed(token, Role.INGEST):
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        if body is None:
            return  # the sender went away: there is nobody to answer
        try:
            payload = WebhookIn.model_validate_json(body)
        except ValidationError:
            await self.app(scope, _replay(body, receive), send)  # its 422 names the field
            return
        scope["route"] = _RouteLabel(ALERTMANAGER_PATH)
        try:
            answer = await receive_webhook(self.state, payload, body)
        except Exception as error:  # the notification failed: the app's handler answers
            response = await _handled(scope, error)
        else:
            response = Response(
                answer.model_dump_json(),
                media_type="application/json",
                background=silences_expiry(self.state, answer),
            )
        await response(scope, receive, send)

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


def _json(scope: Scope) -> bool:
    """The request says its body is JSON, as Alertmanager's do."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"content-type":
            media_type = value.decode("latin-1").partition(";")[0].strip().lower()
            return media_type == "application/json"
    return False


async def _body(receive: Receive) -> bytes | None:
    """The whole request body; None when the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then what `receive` gives."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _handled(scope: Scope, error: Exception) -> Response:
    """The answer the app's exception handlers give `error`, as they would in a route."""
    handlers = scope["app"].exception_handlers
    handler = next(handlers[kind] for kind in type(error).__mro__ if kind in handlers)
    response: Response = await handler(Request(scope), error)
    return response
