"""The deploy gate behind `GET /api/v1/gate` and Flagger's webhook: decide from memory, record
in the background.

A gate is asked on every step of every rollout, so deciding must not wait on the store: statuses
come from the evaluator's memory, and which services exist and which policy gates each come
from a catalog read from the store and kept for `catalog_ttl_s`. Decisions are recorded with
`record_deployment` by a background writer, in batches; `flush()` makes them visible at once.

Failing closed: when the store cannot be read (the catalog) or written (the recorder), every
deploy is denied, since nothing can be checked or recorded. An SLO whose status is missing,
unreadable or older than `max_status_age_s` counts as unreadable SLI data, which denies unless
the caller asks to fail open. Open P0/P1 incidents come from an `IncidentProvider`; srekit has
no incidents yet, so the default provider reports none.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from srekit.core.policy import (
    DEFAULT_POLICY,
    BudgetPolicy,
    Decision,
    FailMode,
    GateDecision,
    SloStanding,
    evaluate_gate,
)
from srekit.core.slo import SLO
from srekit.core.status import DataState, SloStatus, unavailable_status
from srekit.errors import StoreUnavailable
from srekit.serialize import gate_document
from srekit.store import StoreSession
from srekit.store.database import transaction
from srekit.store.repo import newest_audit_id, newest_snapshot_id

T = TypeVar("T")

__all__ = [
    "Catalog",
    "DeploymentRecorder",
    "GateKeeper",
    "GateRequest",
    "IncidentProvider",
    "TtlCache",
    "load_catalog",
    "no_open_incidents",
]

log = logging.getLogger(__name__)

IncidentProvider = Callable[[str], Sequence[str]]
"""The open P0/P1 incidents of a service (ids or titles, as the gate's reason shows them)."""

_CHANGE_TYPE_LIMIT = 40  # the width of deployments.change_type
_NAME_LIMIT = 200
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def no_open_incidents(service: str) -> Sequence[str]:
    """The incident provider until srekit manages incidents: none are ever open."""
    return ()


@dataclass(frozen=True)
class Catalog:
    """What the gate needs from the store: services, their SLOs, and the policy gating each."""

    services: frozenset[str]
    slos: Mapping[str, tuple[SLO, ...]]
    policies: Mapping[str, BudgetPolicy]
    policy_conflicts: Mapping[str, str]


def load_catalog(engine: Engine) -> Catalog:
    """Read the catalog in one transaction (StoreUnavailable when the store is down)."""
    from srekit.store.repo import list_policies, list_services, list_slos

    with transaction(engine) as session:
        services = frozenset(row.name for row in list_services(session))
        stored = {row.name: row.to_policy() for row in list_policies(session)}
        slos: dict[str, list[SLO]] = {}
        for row in list_slos(session):
            slos.setdefault(row.service.name, []).append(row.to_slo())
    default = stored.get("default", DEFAULT_POLICY)
    policies: dict[str, BudgetPolicy] = {}
    conflicts: dict[str, str] = {}
    for service, members in slos.items():
        names = sorted({slo.policy or "default" for slo in members})
        if len(names) > 1:
            conflicts[service] = (
                f"the SLOs of {service} name different policies ({', '.join(names)}):"
                " a service is gated by one policy"
            )
        policies[service] = stored.get(names[0], default)
    return Catalog(
        services=services,
        slos={service: tuple(members) for service, members in slos.items()},
        policies=policies,
        policy_conflicts=conflicts,
    )


@dataclass(frozen=True)
class _Pending:
    service: str
    change_type: str
    decision: GateDecision
    version: str | None
    commit_time: datetime | None
    requested_by: str | None
    source: str
    at: datetime


class DeploymentRecorder:
    """Writes gate decisions to the store in batches, from a thread of its own.

    Decisions wait in memory while the store is down (up to `max_pending`, then the oldest are
    dropped, and logged); `healthy` is False from a failed write until the next one succeeds.
    """

    def __init__(
        self, engine: Engine, *, interval_s: float = 0.2, max_pending: int = 100_000
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.healthy = True
        self.last_error: str | None = None
        self._pending: deque[_Pending] = deque(maxlen=max_pending)
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def add(self, pending: _Pending) -> None:
        if len(self._pending) == self._pending.maxlen:
            log.error("gate decisions pending over the limit: dropping the oldest")
        self._pending.append(pending)

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="srekit-deployment-recorder", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then write what is still pending (if the store lets us)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.flush()
        except (StoreUnavailable, SQLAlchemyError) as error:
            log.error("%d gate decision(s) not recorded at exit: %s", len(self._pending), error)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            try:
                self.flush()
            except (StoreUnavailable, SQLAlchemyError):
                time.sleep(min(1.0, self.interval_s * 5))  # back off while the store is down

    def flush(self) -> None:
        """Write every pending decision now; StoreUnavailable (decisions kept) on failure."""
        with self._flush_lock:
            batch: list[_Pending] = []
            while self._pending:
                batch.append(self._pending.popleft())
            if not batch:
                return
            try:
                self._write(batch)
            except (StoreUnavailable, SQLAlchemyError) as error:
                self._pending.extendleft(reversed(batch))
                self.healthy = False
                self.last_error = str(error)
                raise
            self.healthy = True
            self.last_error = None

    def _write(self, batch: Sequence[_Pending]) -> None:
        from srekit.store.repo import deployment_values, record_deployments

        rows = [
            deployment_values(
                service=item.service,
                change_type=item.change_type,
                decision=item.decision,
                version=item.version,
                commit_time=item.commit_time,
                requested_by=item.requested_by,
                source=item.source,
                now=item.at,
            )
            for item in batch
        ]
        with transaction(self.engine) as session:
            record_deployments(session, rows=rows)  # one executemany for the batch


class TtlCache(Generic[T]):
    """A value loaded in the thread pool and kept `ttl_s` seconds, so hot endpoints read
    memory. One caller refreshes an expired value while the others keep the previous one;
    a failed load forgets the value and raises to the caller.

    With `version` (a cheap query, e.g. the newest audit-log id), an expired value is only
    reloaded when the version moved or it is older than `max_age_s`: reloading 100 SLOs
    holds the GIL for milliseconds, and doing it every second shows in the gate's latency.
    """

    def __init__(
        self,
        load: Callable[[], T],
        *,
        ttl_s: float,
        version: Callable[[], object] | None = None,
        max_age_s: float = 60.0,
    ) -> None:
        self._load = load
        self._version = version
        self.ttl_s = ttl_s
        self.max_age_s = max_age_s
        self._value: tuple[float, T] | None = None
        self._loaded: tuple[float, object] = (0.0, None)
        self._refreshing = threading.Lock()

    def invalidate(self) -> None:
        self._value = None

    def _reload(self) -> T:
        cached = self._value
        try:
            version = self._version() if self._version is not None else None
            loaded_at, loaded_version = self._loaded
            now = time.monotonic()
            if (
                cached is not None
                and self._version is not None
                and version == loaded_version
                and now - loaded_at < self.max_age_s
            ):
                self._value = (now, cached[1])
                return cached[1]
            value = self._load()
        except BaseException:
            self._value = None
            raise
        self._value = (time.monotonic(), value)
        self._loaded = (time.monotonic(), version)
        return value

    async def get(self) -> T:
        cached = self._value
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        if not self._refreshing.acquire(blocking=False):
            if cached is not None:
                return cached[1]  # another request is refreshing it
            return await run_in_threadpool(self._reload)
        try:
            return await run_in_threadpool(self._reload)
        finally:
            self._refreshing.release()


def newest_id(engine: Engine, newest: Callable[[StoreSession], object]) -> object:
    """The highest id of an append-only table (`newest` reads it): it moves whenever something
    was added."""
    with transaction(engine) as session:
        return newest(session)


@dataclass(frozen=True)
class GateRequest:
    """The gate's parameters as received: strings, checked by the keeper, never rejected."""

    service: str | None
    change_type: str | None = "feature"
    version: str | None = None
    commit_time: str | None = None
    fail_open: str | None = None
    requested_by: str | None = None
    source: str = "api"


def _denied(service: str, change_type: str, reason: str) -> GateDecision:
    return GateDecision(
        service=service,
        change_type=change_type,
        allowed=False,
        decision=Decision.DENY,
        state="unknown",
        reasons=(reason,),
    )


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed.astimezone(UTC)


_DECISION_TTL_S = 1.0
_DECISIONS_KEPT = 1024
# Argo Rollouts polls its web metric through an analysis and pipelines retry: the same
# question answered the same way within this window is one deployment attempt, recorded once
_REPEAT_WINDOW_S = 60.0


class GateKeeper:
    """Decides deploys from the evaluator's statuses and the cached catalog; records each."""

    def __init__(
        self,
        *,
        engine: Engine,
        statuses: TtlCache[list[SloStatus]],
        recorder: DeploymentRecorder,
        open_severe_incidents: IncidentProvider = no_open_incidents,
        catalog_ttl_s: float = 2.0,
        max_status_age_s: float = 300.0,
    ) -> None:
        self.engine = engine
        self.statuses = statuses
        self.recorder = recorder
        self.open_severe_incidents = open_severe_incidents
        self.catalog_ttl_s = catalog_ttl_s
        self.max_status_age_s = max_status_age_s
        # every change to services, SLOs and policies writes an audit row
        # a decision is the same for a second for the same inputs: polling pipelines ask
        # the same question many times a second
        self._decisions: dict[
            tuple[object, ...], tuple[float, GateDecision, list[SloStatus], object, object]
        ] = {}
        self._bodies: dict[int, tuple[GateDecision, bytes]] = {}
        self._recorded: dict[tuple[object, ...], float] = {}
        self._catalog = TtlCache(
            lambda: load_catalog(engine),
            ttl_s=catalog_ttl_s,
            version=lambda: newest_id(engine, newest_audit_id),
        )

    def rendered(self, decision: GateDecision, statuses: list[SloStatus]) -> bytes:
        """The decision's JSON body, rendered once per remembered decision."""
        body = self._bodies.get(id(decision))
        if body is None or body[0] is not decision:
            if len(self._bodies) >= _DECISIONS_KEPT:
                self._bodies.clear()
            text = json.dumps(
                gate_document(decision, statuses),
                ensure_ascii=False,
                allow_nan=False,
                separators=(",", ":"),
            )
            body = self._bodies[id(decision)] = (decision, text.encode())
        return body[1]

    def invalidate(self) -> None:
        """Forget the catalog: the next decision reads the store (after a change via the API)."""
        self._catalog.invalidate()

    async def decide(self, request: GateRequest) -> tuple[GateDecision, list[SloStatus]]:
        """The decision and the statuses it was made from; never raises for bad input or a
        failing store (those deny, saying why)."""
        service = (request.service or "").strip()
        change_type = (request.change_type or "feature").strip() or "feature"
        if not service:
            return _denied("", change_type, "service is required: ?service=NAME"), []
        if len(service) > _NAME_LIMIT or len(change_type) > _CHANGE_TYPE_LIMIT:
            return _denied(
                service[:_NAME_LIMIT],
                change_type[:_CHANGE_TYPE_LIMIT],
                f"service is at most {_NAME_LIMIT} characters and change_type at most"
                f" {_CHANGE_TYPE_LIMIT}",
            ), []
        decision, statuses, commit_time = await self._decide(service, change_type, request)
        version = request.version[:_NAME_LIMIT] if request.version else None
        asked = (
            service,
            change_type,
            version,
            commit_time,
            request.requested_by,
            request.source,
            decision.decision,
            decision.state,
        )
        now = time.monotonic()
        if self._recorded.get(asked, -_REPEAT_WINDOW_S) > now - _REPEAT_WINDOW_S:
            return decision, statuses  # the same question, same answer: one attempt, not two
        if len(self._recorded) >= _DECISIONS_KEPT:
            self._recorded.clear()
        self._recorded[asked] = now
        self.recorder.add(
            _Pending(
                service=service,
                change_type=change_type,
                decision=decision,
                version=version,
                commit_time=commit_time,
                requested_by=request.requested_by,
                source=request.source,
                at=datetime.now(UTC),
            )
        )
        return decision, statuses

    async def _decide(
        self, service: str, change_type: str, request: GateRequest
    ) -> tuple[GateDecision, list[SloStatus], datetime | None]:
        commit_time = None
        if request.commit_time:
            try:
                commit_time = _parse_time(request.commit_time)
            except ValueError:
                reason = (
                    "commit_time: expected RFC 3339 (2026-11-01T10:00:00Z),"
                    f" got {request.commit_time!r}"
                )
                return _denied(service, change_type, reason), [], None
        fail_open = (request.fail_open or "").strip().lower()
        if fail_open not in _TRUE | _FALSE:
            reason = f"fail_open: expected true or false, got {request.fail_open!r}"
            return _denied(service, change_type, reason), [], commit_time
        mode = FailMode.OPEN if fail_open in _TRUE else FailMode.CLOSED
        try:
            catalog = await self._catalog.get()
        except (StoreUnavailable, SQLAlchemyError) as error:
            reason = f"the state store is unavailable, so the gate fails closed: {error}"
            return _denied(service, change_type, reason), [], commit_time
        if not self.recorder.healthy:
            reason = (
                "gate decisions cannot be recorded (the state store is unavailable),"
                f" so the gate fails closed: {self.recorder.last_error}"
            )
            return _denied(service, change_type, reason), [], commit_time
        if service not in catalog.services:
            reason = f"unknown service {service!r}: no such service in the store"
            return _denied(service, change_type, reason), [], commit_time
        if service in catalog.policy_conflicts:
            return _denied(service, change_type, catalog.policy_conflicts[service]), [], commit_time
        try:
            current = await self.statuses.get()
        except (StoreUnavailable, SQLAlchemyError) as error:
            reason = f"SLO statuses cannot be read (state store unavailable): {error}"
            return _denied(service, change_type, reason), [], commit_time
        incidents = tuple(self.open_severe_incidents(service))
        key = (service, change_type, mode, id(catalog), id(current), incidents)
        now = time.monotonic()
        remembered = self._decisions.get(key)
        if remembered is not None and remembered[0] > now:
            return remembered[1], remembered[2], commit_time
        statuses, standings = self._standings(service, catalog.slos.get(service, ()), current)
        decision = evaluate_gate(
            service,
            change_type=change_type,
            standings=standings,
            policy=catalog.policies.get(service, DEFAULT_POLICY),
            open_severe_incidents=incidents,
            fail_mode=mode,
        )
        if len(self._decisions) >= _DECISIONS_KEPT:
            self._decisions.clear()
        # catalog and statuses ride along so their ids in the key cannot be reused meanwhile
        self._decisions[key] = (now + _DECISION_TTL_S, decision, statuses, catalog, current)
        return decision, statuses, commit_time

    def _standings(
        self, service: str, slos: Sequence[SLO], current: Sequence[SloStatus]
    ) -> tuple[list[SloStatus], list[SloStanding]]:
        """Each stored SLO's latest status; missing, stale or old ones are unreadable."""
        now = datetime.now(UTC)
        latest = {s.slo: s for s in current if s.service == service}
        statuses: list[SloStatus] = []
        standings: list[SloStanding] = []
        for slo in slos:
            key = f"{service}/{slo.name}"
            status = latest.get(slo.name)
            if status is None:
                status = unavailable_status(slo, at=now, detail="not evaluated yet")
            elif (age := (now - status.at).total_seconds()) > self.max_status_age_s:
                detail = f"last evaluated {age:.0f} s ago (more than {self.max_status_age_s:.0f} s)"
                status = replace(status, data=DataState.STALE, detail=detail)
            if status.data is DataState.STALE:
                # old figures do not gate: without fresh data the fail mode decides
                stale = SloStanding(key, remaining=None, data="stale", detail=status.detail)
                standings.append(stale)
            else:
                standings.append(status.standing)
            statuses.append(status)
        return statuses, standings


class StoredStatuses:
    """Statuses from the newest snapshots in the store: what a server that runs no evaluator
    of its own reads (another process evaluates)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def status_version(self) -> object:
        """The newest snapshot's id: snapshots are only ever added."""
        return newest_id(self.engine, newest_snapshot_id)

    def latest_statuses(self, service: str | None = None) -> list[SloStatus]:
        from srekit.store.repo import latest_snapshots

        with transaction(self.engine) as session:
            return [row.to_status() for row in latest_snapshots(session, service=service).values()]
