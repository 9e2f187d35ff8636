"""The alert quality report from the store, on SQLite and PostgreSQL: alerts delivered through
the real intake, incidents acknowledged and closed as noise through their flows, pages in the
timeline, and each figure worked out by hand from the story below."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.core.incident import IncidentState, TimelineKind
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.errors import SpecError
from srekit.flows.alert_quality import stored_alert_quality
from srekit.flows.incidents import change_incident_state
from srekit.flows.intake import Notification, receive_notification
from srekit.store.database import transaction
from srekit.store.repo import add_event

START = datetime(2026, 11, 3, tzinfo=UTC)
END = datetime(2026, 11, 17, tzinfo=UTC)  # 14 days: two weekly shifts
BURN, DISK, WATCHDOG = "CheckoutAvailabilityErrorBudgetBurn", "DiskFilling", "Watchdog"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _deliver(
    engine: Engine,
    name: str,
    fingerprint: str,
    starts: datetime,
    ends: datetime | None,
    *,
    severity: str,
    service: str | None,
) -> list[int]:
    labels = {"alertname": name, "severity": severity}
    if service is not None:
        labels["srekit_service"] = service
    received = ReceivedAlert(
        fingerprint=fingerprint,
        status=AlertStatus.FIRING if ends is None else AlertStatus.RESOLVED,
        starts_at=starts,
        ends_at=ends,
        labels=labels,
    )
    body = json.dumps([fingerprint, str(starts), str(ends)]).encode()
    notification = Notification(
        receiver="srekit", status=received.status.value, group_key=name, alerts=(received,),
        body=body,
    )  # fmt: skip
    result = receive_notification(engine, notification, now=ends or starts)
    return list(result.incidents_opened or [])


def _fire(engine: Engine, name: str, fingerprint: str, starts: datetime, ends: datetime | None,
          *, severity: str = "page", service: str | None = "checkout") -> int | None:  # fmt: skip
    """Deliver the alert firing, then (with `ends`) resolved; the incident it opened."""
    opened = _deliver(engine, name, fingerprint, starts, None, severity=severity, service=service)
    if ends is not None:
        _deliver(engine, name, fingerprint, starts, ends, severity=severity, service=service)
    return opened[0] if opened else None


def _story(engine: Engine) -> None:
    # x0: before the period (its incident is not the period's), ended 23:40 on the 2nd
    _fire(engine, BURN, "b1", at(2, 23, 10), at(2, 23, 40))
    # x1: 40 minutes after x0 ended: a refire. Acknowledged after 4 minutes, resolved by its
    # alert after 30 minutes; two pages.
    x1 = _fire(engine, BURN, "b1", at(3, 0, 20), None)
    assert x1 is not None
    change_incident_state(
        engine, incident_id=x1, to=IncidentState.ACKNOWLEDGED, actor="ana", now=at(3, 0, 24)
    )
    _deliver(engine, BURN, "b1", at(3, 0, 20), at(3, 0, 50), severity="page", service="checkout")
    # x2: 20 minutes after x1 ended (a refire), over in 2 minutes with nobody acknowledging
    x2 = _fire(engine, BURN, "b1", at(3, 1, 10), at(3, 1, 12))
    # y1: a ticket on db, over after 20 minutes, then closed as noise
    y1 = _fire(engine, DISK, "d1", at(5, 9), at(5, 9, 20), severity="ticket", service="db")
    assert y1 is not None
    assert x2 is not None
    change_incident_state(
        engine, incident_id=y1, to=IncidentState.CLOSED, actor="ana", now=at(5, 10),
        noise=True, noise_reason="a disk that is meant to be full",
    )  # fmt: skip
    # z1: no route takes a Watchdog; it still fires
    assert _fire(engine, WATCHDOG, "w1", at(4, 0), None, severity="none", service=None) is None
    with transaction(engine) as session:
        for incident_id, minute in ((x1, 21), (x1, 26), (x2, 11)):
            add_event(
                session, incident_id=incident_id, kind=TimelineKind.PAGE_SENT, actor="srekit",
                text="paged ana", at=at(3, 0, minute),
            )  # fmt: skip


def test_the_report_of_a_story_worked_out_by_hand(engine: Engine) -> None:
    _story(engine)
    report = stored_alert_quality(engine, start=START, end=END)
    assert report.shifts == 2.0  # 14 days / 7
    # DiskFilling: all its fires false positives; the burn alert half; the Watchdog none
    assert [rule.rule for rule in report.rules] == [DISK, BURN, WATCHDOG]
    disk, burn, watchdog = report.rules

    assert (burn.fires, burn.actionable, burn.false_positives) == (2, 1, 1)  # x1; x2 (2 min)
    assert (burn.auto_resolved, burn.noise, burn.refires) == (1, 0, 2)  # x1 after x0, x2 after x1
    assert (burn.incidents, burn.acknowledged, burn.resolved) == (2, 1, 2)
    assert (burn.tta_median_s, burn.tta_p90_s) == (240.0, 240.0)  # x1's 4 minutes
    assert burn.mttr_s == (30 * 60 + 2 * 60) / 2  # x1 30 min, x2 2 min: 960 s
    assert (burn.pages, burn.pages_per_shift) == (3, 1.5)  # 3 pages / 2 shifts
    assert burn.missed_targets == ("actionable", "false_positives")  # 50 %, 50 %

    assert (disk.fires, disk.actionable, disk.false_positives, disk.noise) == (1, 0, 1, 1)
    assert (disk.tta_median_s, disk.mttr_s) == (None, 20 * 60.0)  # never acknowledged
    assert disk.targets == {
        "actionable": False, "false_positives": False, "mtta": None, "mttr": True,
    }  # fmt: skip

    assert (watchdog.fires, watchdog.without_incident, watchdog.unrouted) == (1, 1, 1)
    assert (watchdog.actionable, watchdog.false_positives, watchdog.incidents) == (0, 0, 0)

    assert report.overall is not None
    assert (report.overall.fires, report.overall.actionable, report.overall.pages) == (4, 1, 3)


def test_a_service_and_a_shorter_window_for_resolving_alone(engine: Engine) -> None:
    _story(engine)
    checkout = stored_alert_quality(engine, start=START, end=END, service="checkout")
    assert [rule.rule for rule in checkout.rules] == [BURN]  # db's and the unrouted left out
    strict = stored_alert_quality(engine, start=START, end=END, auto_resolve_s=60)
    burn = next(rule for rule in strict.rules if rule.rule == BURN)
    assert burn.false_positives == 0  # x2 lasted 2 minutes, longer than 1
    given = stored_alert_quality(engine, start=START, end=END, shifts=3)
    assert given.overall is not None
    assert given.overall.pages_per_shift == 1.0  # 3 pages / 3 shifts


def test_a_period_starting_after_the_earlier_fire_still_sees_the_refire(engine: Engine) -> None:
    _story(engine)
    # from 00:30 on the 3rd: x1 (00:20) is outside, x2 (01:10) inside; x1 ended at 00:50,
    # in the period, though it started before it: x2 is a refire of it
    report = stored_alert_quality(engine, start=at(3, 0, 30), end=at(3, 2))
    (burn,) = report.rules
    assert (burn.fires, burn.refires) == (1, 1)


def test_an_empty_period_and_bad_parameters(engine: Engine) -> None:
    _story(engine)
    empty = stored_alert_quality(engine, start=at(20, 0), end=at(21, 0))
    assert (empty.rules, empty.overall) == ((), None)
    with pytest.raises(SpecError, match="when or before it starts") as refused:
        stored_alert_quality(engine, start=END, end=START)
    assert refused.value.field == "to"
    for name, value, field in (
        ("auto_resolve_s", math.nan, "auto_resolve_window"),
        ("auto_resolve_s", 86_401.0, "auto_resolve_window"),
        ("shift_s", math.inf, "shift"),
        ("shift_s", 0.0, "shift"),
        ("shift_s", 366 * 86_400 + 1.0, "shift"),
    ):
        with pytest.raises(SpecError, match="expected a positive number of seconds up to") as bad:
            stored_alert_quality(engine, start=START, end=END, **{name: value})  # type: ignore[arg-type]
        assert bad.value.field == field
    assert START + timedelta(days=14) == END
