"""The deploy gate behind `GET /api/v1/gate`, Flagger's webhook and the fast path: decide from
memory, record in the background.

A gate is asked on every step of every rollout, so deciding must not wait on the store: statuses
come from the evaluator's memory, and which services exist and which policy gates each come
from a catalog read from the store and kept for `catalog_ttl_s`. Decisions are recorded by the
`DeploymentRecorder` job, in batches. The decision itself is `flows.gate.decide_stored`, the
same rules as `srekit gate`.

Failing closed: when the store cannot be read (the catalog) or written (the recorder), every
deploy is denied, since nothing can be checked or recorded. An SLO whose status is missing,
unreadable or older than `max_status_age_s` counts as unreadable SLI data, which denies unless
the caller asks to fail open. Open P0/P1 incidents come from an `IncidentRepository`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse, Response

from srekit.api.cache import TtlCache
from srekit.api.deps import Refused, authenticate
from srekit.contracts import gate_document
from srekit.core.access import Role
from srekit.core.load_gate import NO_LOAD_TEST, LoadTestPolicy
from srekit.core.policy import GateDecision, denied_decision
from srekit.core.ports import IncidentRepository, NoIncidents
from srekit.core.status import SloStatus
from srekit.errors import StoreUnavailable
from srekit.flows.gate import (
    Catalog,
    GateQuestion,
    GateRequest,
    catalog_version,
    decide_stored,
    load_catalog,
    read_request,
)
from srekit.jobs.deployment_recorder import DeploymentRecorder, PendingDeployment
from srekit.store import StoreEngine

if TYPE_CHECKING:
    from srekit.api.deps import ApiState, Principal

__all__ = ["GateKeeper", "answer_caller", "answer_gate", "gate_caller"]

log = logging.getLogger(__name__)

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
        engine: StoreEngine,
        statuses: TtlCache[list[SloStatus]],
        recorder: DeploymentRecorder,
        incidents: IncidentRepository | None = None,
        catalog_ttl_s: float = 2.0,
        max_status_age_s: float = 300.0,
        load_test: LoadTestPolicy = NO_LOAD_TEST,
    ) -> None:
        self.engine = engine
        self.statuses = statuses
        self.recorder = recorder
        self.incidents: IncidentRepository = incidents if incidents is not None else NoIncidents()
        self.catalog_ttl_s = catalog_ttl_s
        self.max_status_age_s = max_status_age_s
        self.load_test = load_test
        # a decision is the same for a second for the same inputs: polling pipelines ask
        # the same question many times a second
        # ...and only for the catalog and statuses they were made from: when either is
        # replaced the remembered decisions go with it, so none pins an old catalog
        self._decisions: dict[tuple[object, ...], tuple[float, GateDecision, list[SloStatus]]] = {}
        self._decided_from: tuple[object, object] | None = None
        self._bodies: dict[int, tuple[GateDecision, bytes]] = {}
        self._recorded: dict[tuple[object, ...], float] = {}
        # every change to services, SLOs and policies writes an audit row
        self._catalog = TtlCache(
            lambda: load_catalog(engine),
            ttl_s=catalog_ttl_s,
            version=lambda: catalog_version(engine),
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

    async def catalog(self) -> Catalog:
        """The catalog the gate decides from: read from memory, reloaded when it changed
        (StoreUnavailable when it must be reloaded and the store is down)."""
        return await self._catalog.get()

    def invalidate(self) -> None:
        """Forget the catalog: the next decision reads the store (after a change via the API)."""
        self._catalog.invalidate()

    def incidents_changed(self) -> None:
        """An incident opened, closed or changed severity here: the next decision reads the
        open ones again instead of waiting for their cache to expire."""
        forget = getattr(self.incidents, "invalidate", None)
        if forget is not None:
            forget()

    async def decide(self, request: GateRequest) -> tuple[GateDecision, list[SloStatus]]:
        """The decision and the statuses it was made from; never raises for bad input or a
        failing store (those deny, saying why)."""
        question = read_request(request)
        if isinstance(question, GateDecision):
            return question, []
        decision, statuses, known = await self._decide(question)
        if not known:
            # a service the store does not hold: denied, and not recorded, so asking about
            # made-up names cannot grow the deployments table
            return decision, statuses
        asked = (
            question.service,
            question.change_type,
            question.version,
            question.commit_time,
            question.requested_by,
            question.source,
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
            PendingDeployment(
                service=question.service,
                change_type=question.change_type,
                decision=decision,
                version=question.version,
                commit_time=question.commit_time,
                requested_by=question.requested_by,
                source=question.source,
                at=datetime.now(UTC),
            )
        )
        return decision, statuses

    async def _decide(self, question: GateQuestion) -> tuple[GateDecision, list[SloStatus], bool]:
        """The decision, its statuses, and whether the service may exist (False only when
        the catalog says it does not: then nothing is recorded)."""
        service, change_type = question.service, question.change_type
        try:
            catalog = await self._catalog.get()
        except StoreUnavailable as error:
            reason = f"the state store is unavailable, so the gate fails closed: {error.public}"
            return denied_decision(service, change_type, reason), [], True
        if not self.recorder.healthy:
            reason = (
                "gate decisions cannot be recorded (the state store is unavailable),"
                f" so the gate fails closed: {self.recorder.last_error}"
            )
            return denied_decision(service, change_type, reason), [], True
        known = service in catalog.services
        try:
            current = await self.statuses.get()
        except StoreUnavailable as error:
            reason = f"SLO statuses cannot be read (state store unavailable): {error.public}"
            return denied_decision(service, change_type, reason), [], known
        incidents = tuple(self.incidents.open_severe_incidents(service))
        if self._decided_from is None or (
            self._decided_from[0] is not catalog or self._decided_from[1] is not current
        ):
            self._decisions = {}
            self._bodies = {}
            self._decided_from = (catalog, current)
        key = (service, change_type, question.fail_mode, incidents)
        now = time.monotonic()
        remembered = self._decisions.get(key)
        if remembered is not None and remembered[0] > now:
            return remembered[1], remembered[2], known
        decision, statuses = decide_stored(
            question,
            catalog=catalog,
            statuses=current,
            open_severe_incidents=incidents,
            now=datetime.now(UTC),
            max_status_age_s=self.max_status_age_s,
            load_test=self.load_test,
        )
        if len(self._decisions) >= _DECISIONS_KEPT:
            self._decisions.clear()
        self._decisions[key] = (now + _DECISION_TTL_S, decision, statuses)
        return decision, statuses, known


def _denial(service: str, change_type: str, reason: str, status_code: int) -> JSONResponse:
    decision = denied_decision(service, change_type, reason)
    return JSONResponse(gate_document(decision, []), status_code=status_code)


async def gate_caller(
    state: ApiState,
    credentials: Any,
    *,
    service: str = "",
    change_type: str = "",
    deny_status: int = 403,
    client: str | None = None,
) -> Principal:
    """The caller, if their token grants the gate; otherwise `Refused` with a denial in the
    gate's shape: 401/403 for a missing, unknown or under-privileged token, `deny_status` when
    the store cannot say (the gate fails closed)."""
    try:
        return await authenticate(state, credentials, Role.DEPLOY, client=client)
    except HTTPException as error:
        body = gate_document(denied_decision(service, change_type, error.detail), [])
        raise Refused(
            error.status_code, {**body, "detail": error.detail}, headers=error.headers
        ) from None
    except StoreUnavailable as error:
        reason = f"the state store is unavailable, so the gate fails closed: {error.public}"
        body = gate_document(denied_decision(service, change_type, reason), [])
        raise Refused(deny_status, body) from None


async def answer_gate(
    state: ApiState,
    credentials: Any,
    request: GateRequest,
    *,
    deny_status: int,
    client: str | None = None,
) -> Response:
    """The gate's HTTP answer, for the routes and the fast path alike: the decision as JSON,
    `deny_status` when denied; 401/403 only for a missing, unknown or under-privileged token
    (429 when `client` failed too often)."""
    service, change_type = request.service or "", request.change_type or ""
    try:
        principal = await gate_caller(
            state,
            credentials,
            service=service,
            change_type=change_type,
            deny_status=deny_status,
            client=client,
        )
    except Refused as refusal:
        return refusal.response()
    return await answer_caller(state, principal, request, deny_status=deny_status)


async def answer_caller(
    state: ApiState, principal: Principal, request: GateRequest, *, deny_status: int
) -> Response:
    """The gate's answer to an authenticated `principal` (see `answer_gate`)."""
    service, change_type = request.service or "", request.change_type or "feature"
    try:
        decision, statuses = await state.gate.decide(replace(request, requested_by=principal.name))
    except Exception as error:  # the gate answers whatever breaks, and fails closed
        log.exception("the gate failed on %s", request)
        reason = f"the gate failed, so it denies: {error}"
        return _denial(service, change_type, reason, deny_status)
    return Response(
        state.gate.rendered(decision, statuses),
        status_code=200 if decision.allowed else deny_status,
        media_type="application/json",
    )
