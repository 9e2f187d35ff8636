"""A week of the payments team, written to a store, for the handoff's store, flow, CLI and API
tests and the sample in docs/handoff.md: the example rotation (primary handing from bob's
override to alice on Monday 2026-03-30 09:00 Berlin), incidents, tasks, deploys, alerts and an
SLO status, some of them on another team's service (which the handoff must leave out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from srekit.core.incident import (
    IncidentRole,
    IncidentState,
    IncidentView,
    Severity,
    change_state,
)
from srekit.core.policy import Decision, GateDecision
from srekit.core.postmortem import draft_postmortem
from srekit.core.rotation import Rotation, RotationVersion
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import evaluate_slo
from srekit.core.window import RollingWindow
from srekit.spec.rotation import parse_rotation
from srekit.store import repo
from srekit.store.database import transaction
from srekit.store.repo.incidents import incident_of

__all__ = ["AT", "ROTATION_YAML", "rotation", "store_rotation", "versions", "write_story"]

#: Monday 2026-03-30 09:00 in Berlin (CEST, the day after the clocks went forward).
AT = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)

ROTATION_YAML = """\
apiVersion: srekit/v1
kind: Rotation
metadata: {name: payments}
spec:
  team: payments
  timezone: Europe/Berlin          # IANA; handoffs are wall-clock times in this zone
  layers:
    - name: primary
      members: [alice, bob, carol]
      shift: 7d                    # or 12h, 1d, 14d ...
      handoff: "Mon 09:00"         # weekday + wall-clock time, or "09:00" for daily shifts
      start: 2026-01-05            # the first member's first shift starts on the first handoff on/after this date
    - name: secondary
      members: [dave, erin, frank]
      shift: 7d
      handoff: "Thu 09:00"         # staggered
      start: 2026-01-08
    - name: manager
      members: [grace, heidi]
      shift: 1mo
      handoff: "1 09:00"           # day of month + time
      start: 2026-01-01
  restrictions: []                 # optional: e.g. business hours only for a layer
  overrides:
    - {layer: primary, member: bob, from: "2026-03-28T18:00:00+01:00", to: "2026-03-30T09:00:00+02:00"}
"""  # noqa: E501 (the document as written)


def rotation() -> Rotation:
    return parse_rotation(ROTATION_YAML, source="payments.yaml")


def versions() -> list[RotationVersion]:
    return [RotationVersion(rotation(), datetime(2026, 1, 1, tzinfo=UTC))]


def store_rotation(engine: Engine) -> None:
    """Store the rotation as applied on 2026-01-01, in effect from then: the stored rotation's
    handoff is then the file's."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(engine) as session:
        repo.apply_rotation(
            session, rotation=rotation(), actor="ana", effective_from=start, now=start
        )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


AVAILABILITY = SLO(
    service="checkout",
    name="availability",
    objective=0.999,
    window=RollingWindow(30 * 86400),
    indicator=EventsRatio(good="status < 500"),
    owner="payments",
)
BILLING = SLO(
    service="billing",
    name="availability",
    objective=0.99,
    window=RollingWindow(30 * 86400),
    indicator=EventsRatio(good="status < 500"),
    owner="billing",
)


def _decision(service: str, change_type: str, *, allowed: bool) -> GateDecision:
    return GateDecision(
        service=service,
        change_type=change_type,
        allowed=allowed,
        decision=Decision.ALLOW if allowed else Decision.DENY,
        state="normal" if allowed else "emergency",
        reasons=(),
    )


def _move(session: object, row: object, to: IncidentState, at: str, **roles: str) -> None:
    incident = change_state(incident_of(row), to=to, at=_utc(at))  # type: ignore[arg-type]
    if roles:
        incident = replace(incident, roles={IncidentRole(k): v for k, v in roles.items()})
    repo.save_incident(
        session,  # type: ignore[arg-type]
        row=row,  # type: ignore[arg-type]
        incident=incident,
        actor="ana",
        action=to.value,
        text=to.value,
        at=_utc(at),
        now=_utc(at),
    )


def write_story(engine: Engine) -> dict[str, int]:
    """Write the story; the incidents' numbers by name (`checkout`, `payments`, `coupons`,
    `refunds`, `billing`, `closed`)."""
    numbers: dict[str, int] = {}
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="ana", now=_utc("2026-03-01T00:00"))
        repo.apply_slo(session, slo=BILLING, actor="ana", now=_utc("2026-03-01T00:00"))
        repo.upsert_service(session, name="payments-api", team="payments", actor="ana")

        def opened(name: str, title: str, severity: Severity, at: str, service: str) -> object:
            row = repo.create_incident(
                session,
                title=title,
                severity=severity,
                opened_at=_utc(at),
                actor="alertmanager",
                services=[service],
                now=_utc(at),
            )
            numbers[name] = row.id
            return row

        closed = opened(
            "closed", "Old checkout outage", Severity.P1, "2026-03-20T10:00", "checkout"
        )
        _move(session, closed, IncidentState.RESOLVED, "2026-03-20T11:00")
        _move(session, closed, IncidentState.CLOSED, "2026-03-24T11:00")
        refunds = opened(
            "refunds", "Refund e-mails late", Severity.P3, "2026-03-25T08:00", "payments-api"
        )
        _move(session, refunds, IncidentState.RESOLVED, "2026-03-25T09:00")
        coupons = opened(
            "coupons", "Checkout rollout broke coupons", Severity.P2, "2026-03-27T10:00", "checkout"
        )
        _move(session, coupons, IncidentState.RESOLVED, "2026-03-27T12:00")
        checkout = opened(
            "checkout", "Checkout 5xx above budget", Severity.P1, "2026-03-30T04:55", "checkout"
        )
        _move(session, checkout, IncidentState.ACKNOWLEDGED, "2026-03-30T05:00", commander="ana")
        opened("payments", "Payments API down", Severity.P0, "2026-03-30T06:30", "payments-api")
        opened("billing", "Invoices stuck", Severity.P1, "2026-03-30T05:30", "billing")

        repo.create_postmortem(
            session,
            postmortem=draft_postmortem(
                IncidentView(
                    incident=incident_of(coupons),  # type: ignore[arg-type]
                    summary=None,
                    created_by="ana",
                    resolved_by="ana",
                ),
                by="ana",
                now=_utc("2026-03-27T13:00"),
            ),
            now=_utc("2026-03-27T13:00"),
        )
        repo.add_task(
            session,
            incident_id=numbers["coupons"],
            title="Add a canary stage to the checkout rollout",
            actor="ana",
            owner="ana",
            due_at=_utc("2026-03-29T00:00"),
            now=_utc("2026-03-27T13:00"),
        )
        repo.add_task(
            session,
            incident_id=numbers["checkout"],
            title="Review the checkout error budget policy",
            actor="ana",
            owner="bob",
            due_at=_utc("2026-04-03T00:00"),
            now=_utc("2026-03-30T05:30"),
        )
        repo.add_task(
            session,
            incident_id=numbers["billing"],
            title="Not the payments team's",
            actor="ana",
            now=_utc("2026-03-30T05:40"),
        )
        for service, version, change, allowed, at in (
            ("checkout", "v2.4.0", "feature", True, "2026-03-29T06:59:59"),
            ("payments-api", "v1.9.0", "config", False, "2026-03-29T20:00"),
            ("checkout", "v2.4.1", "feature", True, "2026-03-30T06:10"),
            ("billing", "v7", "feature", True, "2026-03-30T06:20"),
        ):
            repo.record_deployment(
                session,
                service=service,
                change_type=change,
                decision=_decision(service, change, allowed=allowed),
                version=version,
                now=_utc(at),
            )
        repo.insert_alerts(
            session,
            rows=[
                _alert(
                    "a1",
                    "CheckoutErrorBudgetBurn",
                    "checkout",
                    "2026-03-30T04:50",
                    None,
                    numbers["checkout"],
                ),
                _alert(
                    "a2",
                    "CheckoutErrorBudgetBurn",
                    "checkout",
                    "2026-03-29T10:00",
                    "2026-03-29T10:20",
                    None,
                ),
                _alert(
                    "a3",
                    "PaymentsDown",
                    "payments-api",
                    "2026-03-30T06:29",
                    None,
                    numbers["payments"],
                ),
                _alert("a4", "CheckoutErrorBudgetBurn", "checkout", "2026-03-28T16:59", None, None),
                _alert(
                    "a5", "InvoicesStuck", "billing", "2026-03-30T05:29", None, numbers["billing"]
                ),
            ],
        )
        status = evaluate_slo(
            AVAILABILITY,
            readings={
                "30d": EventCounts(good=999_500, total=1_000_000),
                "1h": EventCounts(good=9_996, total=10_000),
            },
            at=AT - timedelta(minutes=1),
        )
        repo.record_snapshots(session, statuses=[status])
    return numbers


def _alert(
    fingerprint: str,
    alertname: str,
    service: str,
    starts_at: str,
    ends_at: str | None,
    incident_id: int | None,
) -> dict[str, object]:
    return {
        "fingerprint": fingerprint,
        "starts_at": _utc(starts_at),
        "ends_at": None if ends_at is None else _utc(ends_at),
        "status": "firing" if ends_at is None else "resolved",
        "alertname": alertname,
        "service": service,
        "severity": "P1",
        "labels_json": "{}",
        "annotations_json": "{}",
        "generator_url": None,
        "route_index": 0,
        "incident_id": incident_id,
        "first_seen_at": _utc(starts_at),
        "updated_at": _utc(starts_at),
    }
