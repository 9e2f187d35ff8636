"""What the alert quality report reads of the stored alerts and timelines, on SQLite and
PostgreSQL: the instances started in a period, the instances of some fingerprints ended in
one, and the pages sent per incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from srekit.core.incident import Severity, TimelineKind
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.core.routing import DEFAULT_ROUTING, route_alert
from srekit.store.database import transaction
from srekit.store.repo import (
    AlertSpan,
    add_event,
    alert_values,
    alerts_ended,
    alerts_started,
    create_incident,
    insert_alerts,
    pages_per_incident,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def _row(
    fingerprint: str, starts: datetime, ends: datetime | None, *, service: str | None,
    incident_id: int | None = None, name: str = "Burn",
) -> dict[str, object]:  # fmt: skip
    labels = {"alertname": name, "severity": "page" if service else "none"}
    if service:
        labels["srekit_service"] = service
    alert = ReceivedAlert(
        fingerprint=fingerprint,
        status=AlertStatus.FIRING if ends is None else AlertStatus.RESOLVED,
        starts_at=starts,
        ends_at=ends,
        labels=labels,
    )
    routed = route_alert(DEFAULT_ROUTING, labels)
    return alert_values(alert=alert, routed=routed, incident_id=incident_id, now=T0)


def test_alerts_started_and_ended_in_a_period(engine: Engine) -> None:
    with transaction(engine) as session:
        incident = create_incident(
            session, title="burn", severity=Severity.P1, opened_at=T0, actor="ana", now=T0
        ).id
        insert_alerts(
            session,
            rows=[
                _row("a", T0 - 90 * M, T0 - 70 * M, service="checkout"),  # ended before
                _row("a", T0 - 50 * M, T0 - 5 * M, service="checkout"),  # ended in the hour before
                _row("a", T0, T0 + 10 * M, service="checkout", incident_id=incident),
                _row("b", T0 + 5 * M, None, service="search"),
                _row("w", T0 + 6 * M, None, service=None, name="Watchdog"),
                _row("a", T0 + 60 * M, None, service="checkout"),  # at the end: outside
            ],
        )
    with transaction(engine, read_only=True) as session:
        started = alerts_started(session, start=T0, end=T0 + 60 * M)
        assert started == [
            AlertSpan("a", "Burn", "resolved", T0, T0 + 10 * M, incident, True),
            AlertSpan("b", "Burn", "firing", T0 + 5 * M, None, None, True),
            AlertSpan("w", "Watchdog", "firing", T0 + 6 * M, None, None, False),
        ]
        of_search = alerts_started(session, start=T0, end=T0 + 60 * M, service="search")
        assert [span.fingerprint for span in of_search] == ["b"]
        ended = alerts_ended(
            session, fingerprints=["a", "a", "b"], start=T0 - 60 * M, end=T0 + 60 * M
        )
        assert [(span.fingerprint, span.starts_at) for span in ended] == [
            ("a", T0 - 50 * M),
            ("a", T0),
        ]
        assert alerts_ended(session, fingerprints=[], start=T0, end=T0 + M) == []


def test_alerts_ended_asks_for_many_fingerprints_in_chunks(engine: Engine) -> None:
    fingerprints = [f"f{number:05d}" for number in range(2500)]
    with transaction(engine) as session:
        insert_alerts(
            session,
            rows=[_row(f, T0, T0 + M, service="checkout") for f in fingerprints[::10]],
        )
    with transaction(engine, read_only=True) as session:
        ended = alerts_ended(session, fingerprints=fingerprints, start=T0, end=T0 + 2 * M)
    assert sorted(span.fingerprint for span in ended) == fingerprints[::10]  # 250 of 2500


def test_pages_per_incident_from_the_timeline(engine: Engine) -> None:
    with transaction(engine) as session:
        first, second, third = (
            create_incident(
                session, title=title, severity=Severity.P1, opened_at=T0, actor="ana", now=T0
            ).id
            for title in ("one", "two", "three")
        )
        for incident_id, kind in (
            (first, TimelineKind.PAGE_SENT),
            (first, TimelineKind.PAGE_SENT),
            (first, TimelineKind.NOTE),
            (second, TimelineKind.PAGE_SENT),
            (third, TimelineKind.NOTE),
        ):
            add_event(session, incident_id=incident_id, kind=kind, actor="srekit", text="x", at=T0)
    with transaction(engine, read_only=True) as session:
        assert pages_per_incident(session, incident_ids=[first, second, third, 999]) == {
            first: 2,
            second: 1,
        }
        assert pages_per_incident(session, incident_ids=[]) == {}
