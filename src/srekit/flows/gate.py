"""The deploy gate, asked from the CLI (specs evaluated now) or the server (stored SLOs, the
evaluator's statuses): both end in `core.gate.gate_service`, so they decide alike.

The server's question arrives as strings (`GateRequest`) and is never rejected: whatever is
wrong with it, or with the store, becomes a denial that says why (`read_request`,
`decide_stored`), because Argo Rollouts counts a body it cannot read as a success.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from srekit.core.gate import gate_service
from srekit.core.instant import parse_instant
from srekit.core.load_gate import NO_LOAD_TEST, LoadTestPolicy
from srekit.core.names import NAME_MAX_LENGTH, name_problem
from srekit.core.policy import (
    BudgetPolicy,
    FailMode,
    GateDecision,
    ServicePolicy,
    denied_decision,
    policy_for_service,
    unknown_change_type,
)
from srekit.core.sli import SourceSet
from srekit.core.slo import SLO
from srekit.core.status import SloStatus
from srekit.errors import SpecError
from srekit.flows.evaluate import evaluate_statuses
from srekit.spec.loader import SpecSet
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo import list_policies, list_slos, newest_audit_id, service_teams
from srekit.store.repo.load import last_passed_load_tests, newest_load_run_id

__all__ = [
    "Catalog",
    "GateQuestion",
    "GateRequest",
    "SpecGate",
    "catalog_version",
    "decide_stored",
    "gate_specs",
    "load_catalog",
    "read_request",
    "require_service",
]

CHANGE_TYPE_LIMIT = 40  # the width of deployments.change_type
NAME_LIMIT = NAME_MAX_LENGTH
_FAIL_OPEN = {"true": FailMode.OPEN, "false": FailMode.CLOSED, "": FailMode.CLOSED}


# -- the CLI: specs from files, evaluated now ------------------------------------------------


@dataclass(frozen=True)
class SpecGate:
    """The CLI gate's answer: the decision, the statuses it read, and the policy applied."""

    decision: GateDecision
    statuses: list[SloStatus]
    policy: BudgetPolicy


def require_service(specs: SpecSet, service: str) -> None:
    """A SpecError at --service unless some SLO of `specs` belongs to `service`."""
    services = specs.services()
    if service not in services:
        raise SpecError(
            f"no SLO in the specs belongs to {service!r}"
            f" (services: {', '.join(services) or 'none'})",
            field="--service",
        )


def gate_specs(
    specs: SpecSet,
    sources: SourceSet,
    *,
    service: str,
    change_type: str,
    at: datetime,
    fail_mode: FailMode = FailMode.CLOSED,
    open_severe_incidents: Sequence[str] = (),
    load_test: LoadTestPolicy = NO_LOAD_TEST,
    last_load_test_passed: datetime | None = None,
) -> SpecGate:
    """Evaluate `service`'s SLOs from `specs` at `at` and decide its deploy; the open P0/P1
    incidents given deny it as they do on the server, and so does a missing load test the
    `load_test` policy requires (`last_load_test_passed`: when the service last passed one).

    Raises SpecError when no SLO belongs to `service`, its SLOs name different policies, or
    its policy does not know `change_type`: from files, those are mistakes to fix, not states
    to deny.
    """
    require_service(specs, service)
    own = [slo for slo in specs.slos if slo.service == service]
    chosen = policy_for_service(service, [slo.policy for slo in own], specs.policies)
    if chosen.conflict:
        raise SpecError(chosen.conflict)
    unknown = unknown_change_type(change_type, chosen.policy)
    if unknown is not None:
        raise SpecError(unknown, field="--change-type")
    statuses = evaluate_statuses(own, at=at, sources=sources, policies=specs.policies)
    decision, current = gate_service(
        service,
        change_type=change_type,
        slos=own,
        statuses=statuses,
        policy=chosen.policy,
        now=at,
        fail_mode=fail_mode,
        open_severe_incidents=open_severe_incidents,
        load_test=load_test,
        last_load_test_passed=last_load_test_passed,
    )
    return SpecGate(decision, current, chosen.policy)


# -- the server: the stored catalog and the evaluator's statuses -----------------------------


@dataclass(frozen=True)
class Catalog:
    """What the gate needs from the store: services, their SLOs, and the policy gating each;
    and each service's team, which the dashboard shows beside them."""

    services: frozenset[str]
    slos: Mapping[str, tuple[SLO, ...]]
    policies: Mapping[str, BudgetPolicy]  # the stored ones, by name
    # when each service last passed the load gate (for a LoadTestPolicy)
    load_tests_passed: Mapping[str, datetime] = field(default_factory=dict)
    teams: Mapping[str, str | None] = field(default_factory=dict)  # by service; None: no team

    def policy_of(self, service: str) -> ServicePolicy:
        """The policy gating `service`: worked out when asked, since the catalog is reloaded
        after every change and most of its thousands of services are never gated."""
        named = [slo.policy for slo in self.slos.get(service, ())]
        return policy_for_service(service, named, self.policies)


def load_catalog(engine: StoreEngine) -> Catalog:
    """Read the catalog in one transaction (StoreUnavailable when the store is down)."""
    with transaction(engine, read_only=True) as session:
        teams = service_teams(session)
        stored = {row.name: row.to_policy() for row in list_policies(session)}
        slos: dict[str, list[SLO]] = {}
        for row in list_slos(session):
            slos.setdefault(row.service.name, []).append(row.to_slo())
        load_tests = last_passed_load_tests(session)
    return Catalog(
        services=frozenset(teams),
        slos={service: tuple(members) for service, members in slos.items()},
        policies=stored,
        load_tests_passed=load_tests,
        teams=teams,
    )


def catalog_version(engine: StoreEngine) -> object:
    """Moves whenever services, SLOs or policies change (each change writes an audit entry)
    and whenever a load-test run is recorded."""
    with transaction(engine, read_only=True) as session:
        return (newest_audit_id(session), newest_load_run_id(session))


@dataclass(frozen=True)
class GateRequest:
    """The gate's parameters as received: strings, checked by `read_request`, never rejected."""

    service: str | None
    change_type: str | None = None
    version: str | None = None
    commit_time: str | None = None
    fail_open: str | None = None
    requested_by: str | None = None
    source: str = "api"


@dataclass(frozen=True)
class GateQuestion:
    """A gate request that reads well: what to decide, and what to record with the answer."""

    service: str
    change_type: str
    fail_mode: FailMode
    version: str | None
    commit_time: datetime | None
    requested_by: str | None
    source: str


def read_request(request: GateRequest) -> GateQuestion | GateDecision:
    """The question `request` asks, or the denial saying what is wrong with it.

    The service is trimmed, then must be a name (`core.names`); `fail_open` is exactly `true`
    or `false` (absent or empty: false), as a YAML or JSON boolean would be written.
    """
    service = (request.service or "").strip()
    change_type = (request.change_type or "").strip()
    if not service:
        return denied_decision("", change_type, "service is required: ?service=NAME")
    if len(service) > NAME_LIMIT or len(change_type) > CHANGE_TYPE_LIMIT:
        return denied_decision(
            service[:NAME_LIMIT],
            change_type[:CHANGE_TYPE_LIMIT],
            f"service is at most {NAME_LIMIT} characters and change_type at most"
            f" {CHANGE_TYPE_LIMIT}",
        )
    problem = name_problem(service)
    if problem is not None:
        return denied_decision(service, change_type, f"service: {problem}")
    if not change_type:
        return denied_decision(
            service,
            "",
            "change_type is required: ?change_type=TYPE (feature, config, security_fix,"
            " critical_bug, rollback, or one the service's policy names)",
        )
    commit_time = None
    if request.commit_time:
        try:
            commit_time = parse_instant(request.commit_time)
        except ValueError:
            reason = (
                "commit_time: expected RFC 3339 (2026-11-01T10:00:00Z),"
                f" got {request.commit_time!r}"
            )
            return denied_decision(service, change_type, reason)
    fail_mode = _FAIL_OPEN.get(request.fail_open or "")
    if fail_mode is None:
        reason = f"fail_open: expected true or false, got {request.fail_open!r}"
        return denied_decision(service, change_type, reason)
    return GateQuestion(
        service=service,
        change_type=change_type,
        fail_mode=fail_mode,
        version=request.version[:NAME_LIMIT] if request.version else None,
        commit_time=commit_time,
        requested_by=request.requested_by,
        source=request.source,
    )


def decide_stored(
    question: GateQuestion,
    *,
    catalog: Catalog,
    statuses: Sequence[SloStatus],
    open_severe_incidents: Sequence[str],
    now: datetime,
    max_status_age_s: float = math.inf,
    load_test: LoadTestPolicy = NO_LOAD_TEST,
) -> tuple[GateDecision, list[SloStatus]]:
    """Decide `question` for a stored service from the evaluator's latest statuses (and,
    when `load_test` requires one for its change type, the service's last passed load test).

    An unknown service, or one whose SLOs name different policies, is denied; an SLO whose
    status is missing or older than `max_status_age_s` counts as unreadable SLI data.
    """
    service, change_type = question.service, question.change_type
    if service not in catalog.services:
        reason = f"unknown service {service!r}: no such service in the store"
        return denied_decision(service, change_type, reason), []
    chosen = catalog.policy_of(service)
    if chosen.conflict:
        return denied_decision(service, change_type, chosen.conflict), []
    return gate_service(
        service,
        change_type=change_type,
        slos=catalog.slos.get(service, ()),
        statuses=statuses,
        policy=chosen.policy,
        now=now,
        max_status_age_s=max_status_age_s,
        fail_mode=question.fail_mode,
        open_severe_incidents=open_severe_incidents,
        load_test=load_test,
        last_load_test_passed=catalog.load_tests_passed.get(service),
    )
