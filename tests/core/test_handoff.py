"""The handoff checklist: who hands to whom, which incidents, deploys, SLOs, alerts, tasks and
silences count and in which order, and the Markdown, byte for byte against a sample written
by hand."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from srekit.core.alert_quality import RuleQuality
from srekit.core.budget import ErrorBudget
from srekit.core.handoff import (
    CONFIRMATIONS,
    FiredAlert,
    FiredRule,
    HandoffChecklist,
    LayerHandoff,
    Maintenance,
    MaintenanceSilence,
    PendingPostmortem,
    SilenceMatcher,
    Turn,
    alerts_by_rule,
    alerts_interval,
    awaiting_postmortem,
    handoff_at_problem,
    handoff_document,
    handoff_notice,
    incident_state_at,
    incoming_primary,
    layer_handoffs,
    maintenance_silences,
    open_incidents,
    open_tasks,
    rate_rules,
    recent_deployments,
    render_markdown,
    silence_matches_service,
    slo_order,
)
from srekit.core.incident import (
    FollowUpTask,
    Incident,
    IncidentRole,
    IncidentState,
    PriorDeployment,
    Severity,
    TaskState,
)
from srekit.core.postmortem import PostmortemState
from srekit.core.status import DataState, SloStatus

BERLIN = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Mon 09:00 CEST, the day after DST began
S = IncidentState


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Shift:
    layer: str
    member: str | None
    start: datetime
    end: datetime
    override: bool = False
    gap: str | None = None


SHIFTS = [
    _Shift("primary", "alice", _utc("2026-03-23T08:00"), _utc("2026-03-28T17:00")),
    _Shift("primary", "bob", _utc("2026-03-28T17:00"), _utc("2026-03-30T07:00"), override=True),
    # a version change cuts carol's shift after the handoff: still one turn
    _Shift("primary", "carol", _utc("2026-03-30T07:00"), _utc("2026-04-01T00:00")),
    _Shift("primary", "carol", _utc("2026-04-01T00:00"), _utc("2026-04-06T07:00")),
    # a version change cuts erin's shift: still one turn
    _Shift("secondary", "erin", _utc("2026-03-28T00:00"), _utc("2026-04-02T07:00")),
    _Shift("secondary", "dave", _utc("2026-03-19T08:00"), _utc("2026-03-26T08:00")),
    _Shift("secondary", "erin", _utc("2026-03-26T08:00"), _utc("2026-03-28T00:00")),
    _Shift("manager", None, _utc("2026-03-20T00:00"), _utc("2026-04-01T07:00"), gap="before start"),
    _Shift("manager", "grace", _utc("2026-04-01T07:00"), _utc("2026-05-01T07:00")),
    _Shift("retired", "zed", _utc("2026-03-01T00:00"), _utc("2026-03-15T00:00")),
]

LAYERS = [
    LayerHandoff(
        layer="primary",
        at=AT,
        outgoing=Turn("bob", _utc("2026-03-28T17:00"), AT, override=True),
        incoming=Turn("carol", AT, _utc("2026-04-06T07:00")),
    ),
    LayerHandoff(
        layer="secondary",
        at=_utc("2026-03-26T08:00"),
        outgoing=Turn("dave", _utc("2026-03-19T08:00"), _utc("2026-03-26T08:00")),
        incoming=Turn("erin", _utc("2026-03-26T08:00"), _utc("2026-04-02T07:00")),
    ),
    LayerHandoff(
        layer="manager",
        at=_utc("2026-03-20T00:00"),
        outgoing=None,
        incoming=Turn(None, _utc("2026-03-20T00:00"), _utc("2026-04-01T07:00"), gap="before start"),
    ),
]


def test_each_layer_names_its_own_latest_change_before_the_handoff() -> None:
    assert layer_handoffs(SHIFTS, at=AT) == LAYERS


def test_the_handoff_instant_itself_belongs_to_the_incoming_turn() -> None:
    just_before = layer_handoffs(SHIFTS, at=AT - timedelta(seconds=1))[0]
    assert just_before.incoming.member == "bob"
    assert just_before.outgoing == Turn("alice", _utc("2026-03-23T08:00"), _utc("2026-03-28T17:00"))


def test_a_turn_ends_at_a_gap_in_the_shifts_read() -> None:
    torn = [
        _Shift("primary", "alice", _utc("2026-03-23T08:00"), _utc("2026-03-28T17:00")),
        _Shift("primary", "carol", _utc("2026-03-29T00:00"), _utc("2026-04-06T07:00")),
    ]
    assert layer_handoffs(torn, at=AT) == [
        LayerHandoff(
            "primary",
            _utc("2026-03-29T00:00"),
            None,
            Turn("carol", _utc("2026-03-29T00:00"), _utc("2026-04-06T07:00")),
        )
    ]
    assert layer_handoffs([], at=AT) == []


def test_the_alerts_reviewed_are_the_primary_outgoing_turns() -> None:
    assert alerts_interval(LAYERS, at=AT) == (_utc("2026-03-28T17:00"), AT)
    # an outgoing turn is cut at the handoff instant (never past it)
    later = [
        replace(LAYERS[0], outgoing=Turn("bob", _utc("2026-03-28T17:00"), AT + timedelta(hours=1)))
    ]
    assert alerts_interval(later, at=AT) == (_utc("2026-03-28T17:00"), AT)
    assert alerts_interval(LAYERS[2:], at=AT) == (AT - timedelta(hours=24), AT)
    assert alerts_interval([], at=AT) == (AT - timedelta(hours=24), AT)


# --- incidents ----------------------------------------------------------------------------------


def _incident(
    number: int, severity: Severity, state: IncidentState, opened: str, **more: object
) -> Incident:
    values: dict[str, object] = {
        "id": number,
        "title": f"incident {number}",
        "severity": severity,
        "state": state,
        "opened_at": _utc(opened),
    }
    values.update(more)
    return Incident(**values)  # type: ignore[arg-type]


INCIDENTS = [
    _incident(
        12,
        Severity.P1,
        S.ACKNOWLEDGED,
        "2026-03-30T04:55",
        title="Checkout 5xx above budget",
        services=("checkout",),
        acknowledged_at=_utc("2026-03-30T05:00"),
        roles={IncidentRole.COMMANDER: "ana"},
    ),
    _incident(
        14,
        Severity.P0,
        S.TRIGGERED,
        "2026-03-30T06:30",
        title="Payments API down | EU",
        services=("payments-api",),
    ),
    _incident(
        10,
        Severity.P2,
        S.MITIGATED,
        "2026-03-28T10:00",
        title="Slow refunds",
        services=("payments-api",),
        acknowledged_at=_utc("2026-03-28T10:30"),
        mitigated_at=_utc("2026-03-28T11:00"),
        roles={IncidentRole.COMMANDER: "bob", IncidentRole.SCRIBE: "cy"},
    ),
    # resolved after the handoff: acknowledged at it
    _incident(
        11,
        Severity.P1,
        S.RESOLVED,
        "2026-03-30T06:00",
        title="Card authorisations slow",
        services=("checkout", "payments-api"),
        acknowledged_at=_utc("2026-03-30T06:10"),
        resolved_at=_utc("2026-03-30T08:00"),
        roles={IncidentRole.COMMANDER: "ana"},
    ),
    _incident(
        9,
        Severity.P2,
        S.RESOLVED,
        "2026-03-27T10:00",
        title="Checkout rollout broke coupons",
        resolved_at=_utc("2026-03-27T12:00"),
    ),
    _incident(
        8,
        Severity.P1,
        S.CLOSED,
        "2026-03-20T10:00",
        resolved_at=_utc("2026-03-20T11:00"),
        closed_at=_utc("2026-03-24T11:00"),
    ),
    _incident(
        7,
        Severity.P3,
        S.RESOLVED,
        "2026-03-25T08:00",
        title="Refund e-mails late",
        resolved_at=_utc("2026-03-25T09:00"),
    ),
    _incident(6, Severity.P2, S.RESOLVED, "2026-03-21T08:00", resolved_at=_utc("2026-03-21T09:00")),
    _incident(15, Severity.P0, S.TRIGGERED, "2026-03-30T07:00:01"),
]
POSTMORTEMS = {9: PostmortemState.DRAFT, 6: PostmortemState.PUBLISHED, 8: PostmortemState.PUBLISHED}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-03-30T05:59:59", None),
        ("2026-03-30T06:00", S.TRIGGERED),
        ("2026-03-30T06:10", S.ACKNOWLEDGED),
        ("2026-03-30T07:59:59", S.ACKNOWLEDGED),
        ("2026-03-30T08:00", S.RESOLVED),
    ],
)
def test_an_incident_is_read_as_it_stood_at_the_handoff(
    at: str, expected: IncidentState | None
) -> None:
    assert incident_state_at(INCIDENTS[3], at=_utc(at)) is expected


def test_the_later_instants_of_a_closed_incident_win() -> None:
    closed = INCIDENTS[5]
    assert incident_state_at(closed, at=_utc("2026-03-20T10:30")) is S.TRIGGERED
    assert incident_state_at(closed, at=_utc("2026-03-22T00:00")) is S.RESOLVED
    assert incident_state_at(closed, at=_utc("2026-03-24T11:00")) is S.CLOSED
    mitigated = INCIDENTS[2]
    assert incident_state_at(mitigated, at=_utc("2026-03-28T10:45")) is S.ACKNOWLEDGED


def test_a_reopened_incident_is_triggered_again_though_its_acknowledgement_is_kept() -> None:
    reopened = _incident(
        20,
        Severity.P2,
        S.TRIGGERED,
        "2026-03-29T10:00",
        acknowledged_at=_utc("2026-03-29T10:05"),
        reopened=1,
    )
    assert incident_state_at(reopened, at=AT) is S.TRIGGERED
    assert incident_state_at(reopened, at=_utc("2026-03-29T10:01")) is S.TRIGGERED


def test_open_incidents_are_the_most_severe_first_then_the_oldest() -> None:
    found = open_incidents(INCIDENTS, at=AT)
    assert [(i.id, i.state) for i in found] == [
        (14, S.TRIGGERED),
        (12, S.ACKNOWLEDGED),
        (11, S.ACKNOWLEDGED),
        (10, S.MITIGATED),
    ]


def test_resolved_incidents_wait_for_their_post_mortem_until_it_is_published() -> None:
    found = awaiting_postmortem(INCIDENTS, postmortems=POSTMORTEMS, at=AT)
    assert [(p.incident.id, p.postmortem) for p in found] == [
        (9, PostmortemState.DRAFT),
        (7, None),
    ]
    # #11 resolves after the handoff: then it waits too, in its resolved state
    later = awaiting_postmortem(INCIDENTS, postmortems=POSTMORTEMS, at=_utc("2026-03-30T09:00"))
    assert [(p.incident.id, p.incident.state) for p in later] == [
        (11, S.RESOLVED),
        (9, S.RESOLVED),
        (7, S.RESOLVED),
    ]


# --- deploys, SLOs, tasks -----------------------------------------------------------------------


def _deploy(service: str, version: str, change: str, allowed: bool, at: str) -> PriorDeployment:
    return PriorDeployment(service, version, change, allowed, _utc(at))


DEPLOYS = [
    _deploy("checkout", "v2.4.0", "feature", True, "2026-03-29T06:59:59"),
    _deploy("payments-api", "v1.9.0", "config", False, "2026-03-29T20:00"),
    _deploy("checkout", "v2.4.1", "feature", True, "2026-03-30T06:10"),
    _deploy("checkout", "v2.4.2", "feature", True, "2026-03-30T07:00:01"),
]


def test_deploys_of_the_24_hours_before_the_handoff_newest_first() -> None:
    found = recent_deployments(DEPLOYS, at=AT)
    assert [d.version for d in found] == ["v2.4.1", "v1.9.0"]
    edge = _deploy("checkout", "v2.3.9", "rollback", True, "2026-03-29T07:00")
    assert [d.version for d in recent_deployments([edge], at=AT)] == ["v2.3.9"]


def _status(
    service: str,
    slo: str,
    objective: float,
    sli: float | None,
    remaining: float | None,
    burn: float | None,
    policy: str,
    data: DataState,
) -> SloStatus:
    return SloStatus(
        service=service,
        slo=slo,
        objective=objective,
        window="30d",
        window_s=30 * 86400,
        at=AT,
        sli=sli,
        error_budget=None if remaining is None else ErrorBudget(remaining, 1 - remaining, None),
        burn_rates={"5m": None, "1h": burn},
        time_to_exhaustion_s=None,
        alerts=(),
        policy_state=policy,
        data=data,
    )


STATUSES = [
    _status("checkout", "availability", 0.999, 0.9995, 0.5, 0.4, "normal", DataState.OK),
    _status("checkout", "latency", 0.99, 0.985, -0.5, 3.2, "emergency", DataState.OK),
    _status("payments-api", "availability", 0.999, None, None, None, "normal", DataState.NO_DATA),
]


def test_slos_without_figures_come_first_then_the_least_budget() -> None:
    stale = _status("billing", "availability", 0.99, 0.999, 0.9, 0.1, "normal", DataState.STALE)
    order = slo_order([*STATUSES, stale])
    assert [(s.service, s.slo) for s in order] == [
        ("billing", "availability"),
        ("payments-api", "availability"),
        ("checkout", "latency"),
        ("checkout", "availability"),
    ]


def _task(number: int, incident: int, title: str, state: TaskState, **more: object) -> FollowUpTask:
    values: dict[str, object] = {
        "id": number,
        "incident_id": incident,
        "title": title,
        "state": state,
        "created_at": _utc("2026-03-27T13:00"),
    }
    values.update(more)
    return FollowUpTask(**values)  # type: ignore[arg-type]


TASKS = [
    _task(
        4,
        9,
        "Add a canary stage to the checkout rollout",
        TaskState.OPEN,
        owner="ana",
        due_at=_utc("2026-03-29T00:00"),
    ),
    _task(
        5,
        10,
        "Raise the refund worker pool",
        TaskState.OPEN,
        owner="bob",
        due_at=_utc("2026-04-03T00:00"),
    ),
    _task(6, 9, "Document the rollback", TaskState.OPEN),
    _task(3, 9, "Done before", TaskState.DONE, done_at=_utc("2026-03-29T00:00")),
    _task(
        2,
        9,
        "Fix the coupon cache key",
        TaskState.DONE,
        owner="cy",
        due_at=_utc("2026-03-27T00:00"),
        done_at=_utc("2026-03-31T00:00"),
    ),
    _task(7, 9, "Created later", TaskState.OPEN, created_at=_utc("2026-03-30T08:00")),
    _task(1, 9, "Cancelled", TaskState.CANCELLED),
    _task(8, 9, "Done with no instant", TaskState.DONE),
]


def test_open_follow_ups_are_overdue_first_then_by_due_date_undated_last() -> None:
    assert [t.id for t in open_tasks(TASKS, at=AT)] == [2, 4, 5, 6]


# --- alerts -------------------------------------------------------------------------------------

ALERTS = [
    FiredAlert("CheckoutErrorBudgetBurn", "checkout", _utc("2026-03-30T04:50"), None, 12),
    FiredAlert(
        "CheckoutErrorBudgetBurn", "checkout", _utc("2026-03-29T10:00"), _utc("2026-03-29T10:20")
    ),
    FiredAlert("PaymentsDown", "payments-api", _utc("2026-03-30T06:29"), None, 14),
    FiredAlert("CheckoutErrorBudgetBurn", "checkout", _utc("2026-03-28T16:59"), None, 12),
    FiredAlert("HighLatency", None, _utc("2026-03-30T06:00"), _utc("2026-03-30T08:00")),
    FiredAlert("Later", "checkout", AT, None),
]
RULES = [
    FiredRule("CheckoutErrorBudgetBurn", 2, 1, ("checkout",), (12,)),
    FiredRule("HighLatency", 1, 1, (), ()),
    FiredRule("PaymentsDown", 1, 1, ("payments-api",), (14,)),
]


def test_the_outgoing_shifts_alerts_by_rule_the_most_fired_first() -> None:
    assert alerts_by_rule(ALERTS, start=_utc("2026-03-28T17:00"), end=AT) == RULES
    resolved = alerts_by_rule(ALERTS, start=_utc("2026-03-30T06:00"), end=_utc("2026-03-30T08:00"))
    assert [(r.alertname, r.firing) for r in resolved] == [
        ("HighLatency", 0),
        ("Later", 1),
        ("PaymentsDown", 1),
    ]


# --- planned maintenance ------------------------------------------------------------------------


def _silence(
    sid: str, matchers: tuple[SilenceMatcher, ...], start: str, end: str, by: str, comment: str
) -> MaintenanceSilence:
    return MaintenanceSilence(sid, matchers, _utc(start), _utc(end), by, comment)


SILENCES = [
    _silence(
        "s-pending",
        (SilenceMatcher("service", "checkout|payments-api", is_regex=True),),
        "2026-04-01T20:00",
        "2026-04-01T22:00",
        "dave",
        "Load balancer maintenance",
    ),
    _silence(
        "s-active",
        (SilenceMatcher("service", "payments-api"), SilenceMatcher("env", "prod")),
        "2026-03-30T06:00",
        "2026-03-30T10:00",
        "erin",
        "Postgres 16 upgrade",
    ),
    _silence(
        "s-srekit",
        (SilenceMatcher("service", "checkout"),),
        "2026-03-30T05:00",
        "2026-03-30T09:00",
        "ana",
        "srekit incident #12: Checkout 5xx above budget",
    ),
    _silence(
        "s-held",
        (SilenceMatcher("srekit_service", "checkout"),),
        "2026-03-30T05:00",
        "2026-03-30T09:00",
        "ana",
        "held by an incident",
    ),
    _silence(
        "s-expired",
        (SilenceMatcher("service", "checkout"),),
        "2026-03-29T05:00",
        "2026-03-30T07:00",
        "ana",
        "over",
    ),
    _silence(
        "s-cluster",
        (SilenceMatcher("cluster", "eu1"),),
        "2026-03-30T05:00",
        "2026-03-30T09:00",
        "ana",
        "whole cluster",
    ),
    _silence(
        "s-other",
        (SilenceMatcher("service", "billing"),),
        "2026-03-30T05:00",
        "2026-03-30T09:00",
        "ana",
        "not ours",
    ),
]
SERVICES = ("checkout", "payments-api")
MAINTENANCE = Maintenance(
    configured=True,
    silences=(
        (SILENCES[1], "active", ("payments-api",)),
        (SILENCES[0], "pending", ("checkout", "payments-api")),
    ),
)


def test_maintenance_is_the_services_silences_active_or_pending_not_srekits_own() -> None:
    found = maintenance_silences(
        SILENCES, services=SERVICES, at=AT, incident_silences=frozenset({"s-held"})
    )
    assert found == MAINTENANCE


@pytest.mark.parametrize(
    ("matchers", "service", "expected"),
    [
        ((SilenceMatcher("service", "checkout"),), "checkout", True),
        ((SilenceMatcher("service", "checkout"),), "checkout-eu", False),
        ((SilenceMatcher("service", "check.*", is_regex=True),), "checkout", True),
        ((SilenceMatcher("service", "check", is_regex=True),), "checkout", False),  # anchored
        ((SilenceMatcher("service", "checkout", is_equal=False),), "payments-api", True),
        ((SilenceMatcher("service", "checkout", is_equal=False),), "checkout", False),
        ((SilenceMatcher("service", "(", is_regex=True),), "checkout", False),  # not a pattern
        ((SilenceMatcher("srekit_service", "checkout"),), "checkout", True),
        # two matchers on one label must both accept; either label naming it suffices
        (
            (
                SilenceMatcher("service", "c.*", is_regex=True),
                SilenceMatcher("service", "checkout", is_equal=False),
            ),
            "checkout",
            False,
        ),
        (
            (SilenceMatcher("service", "billing"), SilenceMatcher("srekit_service", "checkout")),
            "checkout",
            True,
        ),
        ((SilenceMatcher("team", "payments"),), "checkout", False),
    ],
)
def test_a_silence_matches_a_service_through_its_service_labels(
    matchers: tuple[SilenceMatcher, ...], service: str, expected: bool
) -> None:
    silence = MaintenanceSilence("s", matchers, AT, AT + timedelta(hours=1), "ana", "why")
    assert silence_matches_service(silence, service) is expected


# --- the document -------------------------------------------------------------------------------


CHECKLIST = HandoffChecklist(
    rotation="payments",
    team="payments",
    at=AT,
    timezone=BERLIN,
    timezone_name="Europe/Berlin",
    services=SERVICES,
    layers=tuple(LAYERS),
    incidents=tuple(open_incidents(INCIDENTS, at=AT)),
    postmortems=tuple(awaiting_postmortem(INCIDENTS, postmortems=POSTMORTEMS, at=AT)),
    deployments=tuple(recent_deployments(DEPLOYS, at=AT)),
    slos=tuple(slo_order(STATUSES)),
    alerts_from=_utc("2026-03-28T17:00"),
    alerts_to=AT,
    alerts=(
        replace(RULES[0], actionable_rate=0.5, missed_targets=("actionable", "mtta")),
        RULES[1],
        replace(RULES[2], actionable_rate=1.0),
    ),
    tasks=tuple(open_tasks(TASKS, at=AT)),
    maintenance=MAINTENANCE,
)

EXPECTED_MARKDOWN = """\
# On-call handoff: payments

- Handoff at: 2026-03-30T07:00:00Z (Mon 2026-03-30 09:00 CEST)
- Team: payments
- Services: checkout, payments-api
- Shifts in: Europe/Berlin

## Who hands to whom

| Layer | Outgoing | Outgoing shift | Incoming | Incoming shift |
| --- | --- | --- | --- | --- |
| primary | bob (override) | Sat 2026-03-28 18:00 CET → Mon 2026-03-30 09:00 CEST | carol | Mon 2026-03-30 09:00 CEST → Mon 2026-04-06 09:00 CEST |
| secondary | dave | Thu 2026-03-19 09:00 CET → Thu 2026-03-26 09:00 CET | erin | Thu 2026-03-26 09:00 CET → Thu 2026-04-02 09:00 CEST |
| manager | - | - | nobody (before start) | Fri 2026-03-20 01:00 CET → Wed 2026-04-01 09:00 CEST |

## Open incidents

| # | Severity | State | Age | Commander | Services | Title |
| --- | --- | --- | --- | --- | --- | --- |
| #14 | P0 | triggered | 30m | unassigned | payments-api | Payments API down \\| EU |
| #12 | P1 | acknowledged | 2h5m | ana | checkout | Checkout 5xx above budget |
| #11 | P1 | acknowledged | 1h | ana | checkout, payments-api | Card authorisations slow |
| #10 | P2 | mitigated | 1d21h | bob | payments-api | Slow refunds |

## Post-mortems to publish

| # | Severity | Resolved | Post-mortem | Title |
| --- | --- | --- | --- | --- |
| #9 | P2 | 2026-03-27T12:00:00Z | draft | Checkout rollout broke coupons |
| #7 | P3 | 2026-03-25T09:00:00Z | not drafted | Refund e-mails late |

## Deploys in the last 24 hours

| Time | Service | Version | Change | Gate |
| --- | --- | --- | --- | --- |
| 2026-03-30T06:10:00Z | checkout | v2.4.1 | feature | allowed |
| 2026-03-29T20:00:00Z | payments-api | v1.9.0 | config | denied |

## SLOs and error budgets

| SLO | Objective | SLI | Budget left | Burn 1h | Policy | Data |
| --- | --- | --- | --- | --- | --- | --- |
| payments-api/availability | 99.9% | - | - | - | normal | no_data |
| checkout/latency | 99% | 98.5% | -50% | 3.20 | emergency | ok |
| checkout/availability | 99.9% | 99.95% | 50% | 0.40 | normal | ok |

## Alerts of the outgoing shift

From 2026-03-28T17:00:00Z to 2026-03-30T07:00:00Z.

| Alert | Fired | Still firing | Services | Incidents | Actionable | Missed |
| --- | --- | --- | --- | --- | --- | --- |
| CheckoutErrorBudgetBurn | 2 | 1 | checkout | #12 | 50% | actionable, mtta |
| HighLatency | 1 | 1 | - | - | - | - |
| PaymentsDown | 1 | 1 | payments-api | #14 | 100% | - |

## Open follow-ups

| Task | Incident | Title | Owner | Due |
| --- | --- | --- | --- | --- |
| #2 | #9 | Fix the coupon cache key | cy | 2026-03-27T00:00:00Z (overdue) |
| #4 | #9 | Add a canary stage to the checkout rollout | ana | 2026-03-29T00:00:00Z (overdue) |
| #5 | #10 | Raise the refund worker pool | bob | 2026-04-03T00:00:00Z |
| #6 | #9 | Document the rollback | - | - |

## Planned maintenance

| Silence | State | From | To | Services | By | Comment |
| --- | --- | --- | --- | --- | --- | --- |
| s-active | active | Mon 2026-03-30 08:00 CEST | Mon 2026-03-30 12:00 CEST | payments-api | erin | Postgres 16 upgrade |
| s-pending | pending | Wed 2026-04-01 22:00 CEST | Thu 2026-04-02 00:00 CEST | checkout, payments-api | dave | Load balancer maintenance |

## Before you take over

- [ ] I have read every open incident above, and the outgoing on-call told me what is in flight
- [ ] I know who commands each open incident from now on, and I have taken over those assigned to the outgoing on-call
- [ ] I have checked the dashboards of these services: SLOs, error budgets, burn rates
- [ ] I have reviewed the deploys of the last 24 hours, and no rollout is left half done
- [ ] I have looked at the alerts of the outgoing shift, and the noisy ones are followed up
- [ ] My pager works: I sent myself a test page and acknowledged it
- [ ] I know the planned maintenance, and the silences that will end during my shift
- [ ] I have seen the overdue follow-ups and the post-mortems still to publish
- [ ] I can reach the next level of escalation, and have my laptop, VPN and access at hand
"""  # noqa: E501 (the sample as Markdown has it)


def test_the_markdown_is_the_hand_written_sample_byte_for_byte() -> None:
    assert render_markdown(CHECKLIST) == EXPECTED_MARKDOWN


def test_empty_parts_say_none_and_maintenance_says_why_it_is_missing() -> None:
    bare = replace(
        CHECKLIST,
        team=None,
        services=(),
        layers=(),
        incidents=(),
        postmortems=(),
        deployments=(),
        slos=(),
        alerts=(),
        tasks=(),
        maintenance=Maintenance(configured=False),
    )
    text = render_markdown(bare)
    assert "- Team: -\n- Services: -\n" in text
    for heading in (
        "Who hands to whom",
        "Open incidents",
        "Open follow-ups",
        "SLOs and error budgets",
    ):
        assert f"## {heading}\n\nNone.\n" in text
    assert "to 2026-03-30T07:00:00Z.\n\nNone.\n" in text
    assert "Alertmanager not configured: set SREKIT_ALERTMANAGER_URL to list its silences." in text
    unread = replace(bare, maintenance=Maintenance(configured=True, problem="connection refused"))
    assert (
        "## Planned maintenance\n\nAlertmanager could not be read: connection refused\n"
        in render_markdown(unread)
    )
    nothing = replace(bare, maintenance=Maintenance(configured=True))
    assert "## Planned maintenance\n\nNone.\n" in render_markdown(nothing)


def test_unnamed_gaps_and_tiny_figures_read_plainly() -> None:
    gap = LayerHandoff("night", AT, None, Turn(None, AT, AT + timedelta(hours=1)))
    tiny = replace(STATUSES[0], error_budget=ErrorBudget(-0.0004, 1.0004, None))
    pending = PendingPostmortem(replace(INCIDENTS[4], resolved_at=None), PostmortemState.IN_REVIEW)
    text = render_markdown(replace(CHECKLIST, layers=(gap,), slos=(tiny,), postmortems=(pending,)))
    assert "| night | - | - | nobody |" in text
    assert "| checkout/availability | 99.9% | 99.95% | 0% | 0.40 |" in text
    assert "| #9 | P2 | - | in review |" in text


def test_the_json_document_carries_the_same_parts_in_utc() -> None:
    document = handoff_document(CHECKLIST)
    assert document["rotation"] == "payments"
    assert document["at"] == "2026-03-30T07:00:00Z"
    assert document["timezone"] == "Europe/Berlin"
    assert document["layers"][0] == {
        "layer": "primary",
        "at": "2026-03-30T07:00:00Z",
        "outgoing": {
            "member": "bob",
            "start": "2026-03-28T17:00:00Z",
            "end": "2026-03-30T07:00:00Z",
            "override": True,
            "gap": None,
        },
        "incoming": {
            "member": "carol",
            "start": "2026-03-30T07:00:00Z",
            "end": "2026-04-06T07:00:00Z",
            "override": False,
            "gap": None,
        },
    }
    assert document["layers"][2]["outgoing"] is None
    assert document["incidents"][1] == {
        "id": 12,
        "title": "Checkout 5xx above budget",
        "severity": "P1",
        "state": "acknowledged",
        "opened_at": "2026-03-30T04:55:00Z",
        "age_s": 7500.0,  # 2 h 5 min
        "commander": "ana",
        "services": ["checkout"],
    }
    assert document["incidents"][0]["commander"] is None
    assert document["awaiting_postmortem"] == [
        {
            "id": 9,
            "title": "Checkout rollout broke coupons",
            "severity": "P2",
            "resolved_at": "2026-03-27T12:00:00Z",
            "postmortem": "draft",
        },
        {
            "id": 7,
            "title": "Refund e-mails late",
            "severity": "P3",
            "resolved_at": "2026-03-25T09:00:00Z",
            "postmortem": None,
        },
    ]
    assert document["deployments"][1] == {
        "service": "payments-api",
        "version": "v1.9.0",
        "change_type": "config",
        "allowed": False,
        "requested_at": "2026-03-29T20:00:00Z",
    }
    assert document["slos"][1] == {
        "service": "checkout",
        "slo": "latency",
        "objective": 0.99,
        "sli": 0.985,
        "error_budget_remaining": -0.5,
        "burn_rate_1h": 3.2,
        "policy_state": "emergency",
        "data": "ok",
    }
    assert document["slos"][0]["error_budget_remaining"] is None
    assert document["alerts"]["from"] == "2026-03-28T17:00:00Z"
    assert document["alerts"]["rules"][0] == {
        "alertname": "CheckoutErrorBudgetBurn",
        "fired": 2,
        "firing": 1,
        "services": ["checkout"],
        "incidents": [12],
        "actionable_rate": 0.5,
        "missed_targets": ["actionable", "mtta"],
    }
    assert [(t["id"], t["overdue"]) for t in document["tasks"]] == [
        (2, True),
        (4, True),
        (5, False),
        (6, False),
    ]
    assert document["tasks"][3]["due_at"] is None
    assert document["maintenance"]["configured"] is True
    assert document["maintenance"]["silences"][0] == {
        "id": "s-active",
        "state": "active",
        "starts_at": "2026-03-30T06:00:00Z",
        "ends_at": "2026-03-30T10:00:00Z",
        "created_by": "erin",
        "comment": "Postgres 16 upgrade",
        "services": ["payments-api"],
        "matchers": [
            {"name": "service", "value": "payments-api", "is_regex": False, "is_equal": True},
            {"name": "env", "value": "prod", "is_regex": False, "is_equal": True},
        ],
    }
    assert document["confirmations"] == list(CONFIRMATIONS)


def _quality(rule: str, *, fires: int, actionable: int, missed: tuple[str, ...]) -> RuleQuality:
    return RuleQuality(
        rule=rule,
        fires=fires,
        actionable=actionable,
        false_positives=0,
        noise=0,
        auto_resolved=0,
        refires=0,
        without_incident=0,
        unrouted=0,
        incidents=0,
        acknowledged=0,
        resolved=0,
        tta_median_s=None,
        tta_p90_s=None,
        mttr_s=None,
        pages=0,
        pages_per_shift=0.0,
        targets=dict.fromkeys(missed, False),
    )


def test_rules_take_their_quality_over_the_same_interval() -> None:
    qualities = {
        "CheckoutErrorBudgetBurn": _quality(
            "CheckoutErrorBudgetBurn", fires=4, actionable=1, missed=("actionable", "mtta")
        ),
        "PaymentsDown": _quality("PaymentsDown", fires=0, actionable=0, missed=()),
    }
    rated = rate_rules(RULES, qualities=qualities)
    assert rated[0].actionable_rate == 0.25  # 1 of 4
    assert rated[0].missed_targets == ("actionable", "mtta")
    assert rated[1] == RULES[1]  # no figures for it
    assert rated[2] == RULES[2]  # no fires: no rate


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        (AT, None),
        (AT + timedelta(seconds=60), None),  # a clock a minute fast
        (datetime(1970, 1, 1, tzinfo=UTC), None),
        (
            AT + timedelta(seconds=61),
            "2026-03-30T07:01:01Z is in the future (now is 2026-03-30T07:00:00Z)",
        ),
        (
            datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
            "expected 1970-01-01T00:00:00Z or later, got 1969-12-31T23:59:59Z",
        ),
    ],
)
def test_a_handoff_is_taken_from_1970_to_now(at: datetime, problem: str | None) -> None:
    assert handoff_at_problem(at, now=AT) == problem


def test_the_incoming_primary_is_told_in_a_notice() -> None:
    assert incoming_primary(CHECKLIST) == "carol"
    assert incoming_primary(replace(CHECKLIST, layers=())) is None
    gap = LayerHandoff(
        "primary", AT, None, Turn(None, AT, AT + timedelta(hours=1), gap="restricted")
    )
    assert incoming_primary(replace(CHECKLIST, layers=(gap,))) is None
    notice = handoff_notice(CHECKLIST, person="carol", link="http://srekit.test/h")
    assert notice.kind == "handoff"
    assert notice.person == "carol"
    assert notice.subject == (
        "On-call handoff: payments, primary bob (override) → carol at Mon 2026-03-30 09:00 CEST"
    )
    assert notice.text == notice.markdown == render_markdown(CHECKLIST)
    assert notice.at == AT
    assert notice.link == "http://srekit.test/h"
    bare = handoff_notice(replace(CHECKLIST, layers=()), person="carol", link=None)
    assert bare.subject == "On-call handoff: payments"
    assert bare.link is None
