"""What routes depend on: the app's state, the caller's identity and role, and a store session.

Roles and what each grants are `core.access`'s. Token look-ups are cached for a few
seconds, so a busy gate or status endpoint does not query the store on every request; a
revoked token stops working within `TOKEN_CACHE_TTL_S`. A client (remote address) whose
authentications failed `auth_failure_limit` times within `auth_failure_window_s` gets 429
with Retry-After instead of 401 until its failures age out; a valid token always passes.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

from fastapi import Depends, HTTPException, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from srekit.config import Settings
from srekit.core.access import TOKEN_CACHE_TTL_S, Role, grants
from srekit.core.ports import Silencer
from srekit.core.routing import DEFAULT_ROUTING, AlertRouting
from srekit.core.status import SloStatus
from srekit.jobs.intake_queue import IntakeQueue
from srekit.store import StoreEngine, StoreSession
from srekit.store.database import transaction
from srekit.telemetry import SrekitMetrics

if TYPE_CHECKING:
    from srekit.api.cache import TtlCache
    from srekit.api.gatekeeper import GateKeeper

__all__ = [
    "Admin",
    "ApiState",
    "AuthFailures",
    "BearerDep",
    "Deployer",
    "Editor",
    "Ingester",
    "Principal",
    "Refused",
    "StateDep",
    "StatusProvider",
    "TokenCache",
    "Viewer",
    "authenticate",
    "bearer_token",
    "checks_role",
    "client_address",
    "get_state",
    "required_role",
]

_Dependency = TypeVar("_Dependency", bound=Callable[..., Any])
_UNKNOWN_TOKEN_TTL_S = 2.0  # also cache misses, so a wrong token cannot hammer the store
_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (the audit log's actor) and its role."""

    name: str
    role: Role

    def may(self, role: Role) -> bool:
        return grants(self.role, role)


class StatusProvider(Protocol):
    """What the API reads of the evaluator: every SLO's latest status (the API caches it)."""

    def latest_statuses(self, service: str | None = None) -> list[SloStatus]: ...


class TokenCache:
    """Token hash → principal (or None: unknown), each for a few seconds."""

    def __init__(self, ttl_s: float = TOKEN_CACHE_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[Principal | None, float]] = {}
        self._lock = threading.Lock()
        self.generation = 0  # moves on every clear()

    def get(self, digest: str) -> tuple[bool, Principal | None]:
        entry = self._entries.get(digest)
        if entry is None or entry[1] < time.monotonic():
            return False, None
        return True, entry[0]

    def put(self, digest: str, principal: Principal | None, *, generation: int) -> None:
        """Remember a look-up made when the cache was at `generation`; one that a clear()
        (a revocation) overtook is dropped, as it may predate the revocation."""
        ttl = self.ttl_s if principal is not None else min(self.ttl_s, _UNKNOWN_TOKEN_TTL_S)
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= _CACHE_LIMIT:
                self._entries.clear()
            self._entries[digest] = (principal, time.monotonic() + ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.generation += 1


class AuthFailures:
    """Failed authentications per client address, the last `limit` of each, for
    `window_s`; at most `max_clients` addresses are remembered (the oldest are forgotten)."""

    def __init__(self, *, limit: int, window_s: float, max_clients: int = _CACHE_LIMIT) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def fail(self, client: str, now: float | None = None) -> float | None:
        """Count a failure; the seconds to wait when `client` was already over the limit
        (the answer is then 429), else None (401)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._failures.pop(client, None)  # re-inserted: the newest last
            if failures is None:
                failures = deque(maxlen=self.limit)
                while len(self._failures) >= self.max_clients:
                    del self._failures[next(iter(self._failures))]
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            over = len(failures) >= self.limit
            failures.append(now)
            self._failures[client] = failures
            # the limit holds until the oldest remembered failure leaves the window
            return max(1.0, failures[0] + self.window_s - now) if over else None


@dataclass
class ApiState:
    """Everything the routes share, built once by `create_app`."""

    settings: Settings
    engine: StoreEngine
    metrics: SrekitMetrics
    evaluator: StatusProvider | None
    gate: GateKeeper
    statuses: TtlCache[list[SloStatus]]
    tokens: TokenCache = field(default_factory=TokenCache)
    # the alert routing the intake applies (None: srekit's built-in default)
    routing_of: Callable[[StoreSession], AlertRouting] | None = None
    # Alertmanager, for incidents' silences (None: SREKIT_ALERTMANAGER_URL is not set)
    silencer: Silencer | None = None
    auth_failures: AuthFailures = field(init=False)
    # the Alertmanager webhook's writer: notifications stored in batches, one commit each
    intake: IntakeQueue = field(init=False)
    lookups: dict[str, asyncio.Future[Principal | None]] = field(default_factory=dict)
    # status JSON bodies rendered from one refresh of `statuses`, by (id(list), service); the
    # list itself is kept in the value so its id cannot be reused while the entry lives
    rendered: dict[tuple[int, str | None], tuple[list[SloStatus], bytes]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.auth_failures = AuthFailures(
            limit=self.settings.auth_failure_limit, window_s=self.settings.auth_failure_window_s
        )
        self.intake = IntakeQueue(
            self.engine,
            routing_of=self.intake_routing,
            max_waiting=self.settings.intake_max_waiting,
        )

    def intake_routing(self, session: StoreSession) -> AlertRouting:
        """The alert routing the intake applies now (`routing_of` may be set after start)."""
        return DEFAULT_ROUTING if self.routing_of is None else self.routing_of(session)

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[StoreSession]:
        """One transaction: committed when the block ends, before the response is sent. A
        read-only one (the routes that list and get) reads beside writers on SQLite instead of
        queueing for the write lock."""
        with transaction(self.engine, read_only=read_only) as session:
            yield session

    def lookup_token(self, token: str) -> Principal | None:
        """The principal behind `token` (cached briefly); None for unknown or revoked tokens."""
        from srekit.store.repo import authenticate_token, hash_token

        digest = hash_token(token)
        found, principal = self.tokens.get(digest)
        if found:
            return principal
        generation = self.tokens.generation
        with self.session() as session:
            row = authenticate_token(session, token=token)
            principal = None if row is None else Principal(row.name, Role(row.role))
        self.tokens.put(digest, principal, generation=generation)
        return principal

    def forget_tokens(self) -> None:
        """After a revocation: no cached or in-flight look-up answers for a token again."""
        self.tokens.clear()
        self.lookups.clear()  # requests from now on look up afresh


async def get_state(request: Request) -> ApiState:
    """The app's shared state (async: a sync dependency would cost a thread-pool hop)."""
    state: ApiState = request.app.state.srekit
    return state


StateDep = Annotated[ApiState, Depends(get_state)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="`Authorization: Bearer srk_...` (`srekit token create`, POST /api/v1/tokens)",
)


class Refused(HTTPException):
    """A refusal answered with `content` as its JSON body rather than `{"detail": ...}` (the
    gate answers in its own shape); the app's error handler sends `response()`."""

    def __init__(
        self, status_code: int, content: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code, str(content.get("detail", "")), headers=headers)
        self.content = content

    def response(self) -> JSONResponse:
        return JSONResponse(self.content, status_code=self.status_code, headers=self.headers)


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="srekit"' + (f', error="{error}"' if error else "")
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def client_address(request: Request) -> str | None:
    """The remote address failed authentications are counted against."""
    return request.client.host if request.client else None


def _failed(state: ApiState, client: str | None, error: HTTPException) -> HTTPException:
    """`error` (a 401), or a 429 when `client` has failed too often lately."""
    if client is None:
        return error
    wait_s = state.auth_failures.fail(client)
    if wait_s is None:
        return error
    return HTTPException(
        429,
        f"too many failed authentications from this address: retry in {math.ceil(wait_s)} s",
        headers={"Retry-After": str(math.ceil(wait_s))},
    )


async def authenticate(
    state: ApiState,
    credentials: HTTPAuthorizationCredentials | None,
    role: Role,
    *,
    client: str | None = None,
) -> Principal:
    """The caller, if their token is valid and grants `role`; 401 or 403 otherwise, and 429
    instead of 401 when `client` (its address; None counts nothing) has failed too often.

    The cached path does no I/O; a miss reads the store in the thread pool (StoreUnavailable
    becomes a 503 through the app's error handler).
    """
    if credentials is None:
        required = _unauthorized("a bearer token is required: Authorization: Bearer srk_...")
        raise _failed(state, client, required)
    from srekit.store.repo import hash_token

    token = credentials.credentials
    digest = hash_token(token)
    found, principal = state.tokens.get(digest)
    if not found:
        principal = await _single_lookup(state, token, digest)
    if principal is None:
        unknown = _unauthorized("the token is unknown or revoked", "invalid_token")
        raise _failed(state, client, unknown)
    if not principal.may(role):
        raise HTTPException(403, f"token {principal.name!r} ({principal.role}) may not do this")
    return principal


async def _single_lookup(state: ApiState, token: str, digest: str) -> Principal | None:
    """Look a token up in the store once, however many requests wait for it: when a busy
    token's cache entry expires, dozens of requests miss at the same instant."""
    pending = state.lookups.get(digest)
    if pending is None:
        pending = state.lookups[digest] = asyncio.ensure_future(
            run_in_threadpool(state.lookup_token, token)
        )
        pending.add_done_callback(
            lambda done: state.lookups.pop(digest) if state.lookups.get(digest) is done else None
        )
    return await asyncio.shield(pending)


_ROLE_CHECKS: dict[Callable[..., Any], Role] = {}


def checks_role(role: Role) -> Callable[[_Dependency], _Dependency]:
    """Mark a dependency as the one that authenticates a route's caller for `role`, so the
    request guard (`api.guard`) checks the token before any body is read."""

    def mark(dependency: _Dependency) -> _Dependency:
        _ROLE_CHECKS[dependency] = role
        return dependency

    return mark


def required_role(dependant: Dependant) -> Role | None:
    """The role a route's dependencies authenticate for (None: the route is public or checks
    its caller some other way)."""
    for dependency in dependant.dependencies:
        role = _ROLE_CHECKS.get(dependency.call) if dependency.call is not None else None
        if role is None:
            role = required_role(dependency)
        if role is not None:
            return role
    return None


def bearer_token(scope: Scope) -> str | None:
    """The bearer token of an ASGI request's `Authorization` header (None: none, or not a
    bearer token), for the middlewares that check a token before FastAPI does."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
            return None
    return None


def _requires(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    @checks_role(role)
    async def dependency(
        state: StateDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
        request: Request,
    ) -> Principal:
        return await authenticate(state, credentials, role, client=client_address(request))

    dependency.__name__ = f"requires_{role.value}"
    return dependency


Viewer = Annotated[Principal, Depends(_requires(Role.VIEWER))]
Editor = Annotated[Principal, Depends(_requires(Role.EDITOR))]
Admin = Annotated[Principal, Depends(_requires(Role.ADMIN))]
Deployer = Annotated[Principal, Depends(_requires(Role.DEPLOY))]
Ingester = Annotated[Principal, Depends(_requires(Role.INGEST))]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
