"""The request guard: who may send a body, how large it may be, and that no error escapes.

It runs before FastAPI reads anything:

- A route that takes a body and authenticates its caller for a role (its dependencies include
  one marked `deps.checks_role`) checks the token first. A caller the token does not grant the
  role never has their body read: the route is handed an empty body and answers its own
  401/403, since FastAPI runs a route's dependencies before it validates the body.
- A body larger than `Settings.max_body_bytes` is refused with 413: before reading when its
  `Content-Length` says so, and as soon as a chunked body passes the limit otherwise.
- An error that escapes the app (a bug) is answered 500 as JSON and logged once, so the
  server neither logs it twice nor drops the connection.
"""

from __future__ import annotations

import json
import logging

from fastapi import HTTPException
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from srekit.api.deps import ApiState, authenticate, bearer_token, required_role
from srekit.api.schemas.alertmanager import ALERTMANAGER_PATH
from srekit.core.access import Role
from srekit.errors import SrekitError

__all__ = ["BodyTooLarge", "RequestGuard"]

log = logging.getLogger(__name__)


class BodyTooLarge(HTTPException):
    """413: the request body passed `Settings.max_body_bytes`."""

    def __init__(self, limit: int, setting: str = "SREKIT_MAX_BODY_BYTES") -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes ({setting})")


class RequestGuard:
    """ASGI middleware: authentication before bodies, bounded bodies, no escaping errors."""

    def __init__(self, app: ASGIApp, *, state: ApiState) -> None:
        self.app = app
        self.state = state
        self.limit = state.settings.max_body_bytes
        # Alertmanager puts a whole group in one body: its route takes more
        self.limits = {
            ALERTMANAGER_PATH: (state.settings.max_alert_body_bytes, "SREKIT_MAX_ALERT_BODY_BYTES")
        }
        # route → the role it needs; by id (routes are not hashable), the route kept alongside
        self._roles: dict[int, tuple[APIRoute, Role | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._guarded(scope, receive, watched)
        except BodyTooLarge as error:  # read past the limit by someone but FastAPI
            _refused(scope, error.status_code, str(error.detail))
            if not started:
                await _answer(send, error.status_code, {"detail": error.detail})
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"][:200])
            if not started:
                await _answer(send, 500, {"detail": "internal error (logged)"})

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, self._checked(scope, receive), send)

    def _checked(self, scope: Scope, receive: Receive) -> Receive:
        """`receive`, checking before the first byte of the body is read that the caller may
        send one (the route is known by then: FastAPI reads a body after routing) and that it
        is not too large, and counting the bytes as they come."""
        first = True
        denied = False
        received = 0
        limit, setting = self.limits.get(
            scope.get("path", ""), (self.limit, "SREKIT_MAX_BODY_BYTES")
        )

        async def checked() -> Message:
            nonlocal first, denied, received
            if first:
                first = False
                if not await self._may_send_body(scope):
                    denied = True  # the route answers 401/403 (see the module doc)
                    return {"type": "http.request", "body": b"", "more_body": False}
                length = _content_length(scope)
                if length is not None and length > limit:
                    raise BodyTooLarge(limit, setting)
            message = await receive()
            if message["type"] == "http.request" and not denied:
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, setting)  # FastAPI's error handler answers 413
            return message

        return checked

    async def _may_send_body(self, scope: Scope) -> bool:
        """The caller's token grants the role of the route reading the body (true when the
        route needs none)."""
        route = scope.get("route")
        if not isinstance(route, APIRoute):
            return True
        known = self._roles.get(id(route))
        if known is None or known[0] is not route:
            known = self._roles[id(route)] = (route, required_role(route.dependant))
        role = known[1]
        if role is None:
            return True
        token = bearer_token(scope)
        if token is None:
            return False
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        try:
            await authenticate(self.state, credentials, role)
        except (HTTPException, SrekitError):
            return False
        return True


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            if not value.isdigit():
                return None  # the server refuses such a request before it gets here
            return int(value) if len(value) <= 18 else 10**18
    return None


def _refused(scope: Scope, status: int, reason: str) -> None:
    log.info("refused %s %s: %d %s", scope["method"], scope["path"][:200], status, reason)


async def _answer(send: Send, status: int, content: dict[str, object]) -> None:
    body = json.dumps(content, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
