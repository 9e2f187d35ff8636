"""Alert intake: incidents open, join and resolve from the alerts' own instants, and the stored
state depends only on which notifications arrived, not on their order, repeats or concurrency."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from srekit.core.incident import IncidentState, Severity
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.core.routing import AlertRoute, AlertRouting
from srekit.flows.intake import Notification, receive_notification
from srekit.store import repo
from srekit.store.database import create_store_engine, transaction, upgrade

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=6)
M = timedelta(minutes=1)


def _alert(
    fingerprint: str,
    *,
    starts: datetime,
    ends: datetime | None = None,
    service: str = "checkout",
    severity: str = "page",
    name: str = "CheckoutAvailabilityErrorBudgetBurn",
) -> ReceivedAlert:
    return ReceivedAlert(
        fingerprint=fingerprint,
        status=AlertStatus.FIRING if ends is None else AlertStatus.RESOLVED,
        starts_at=starts,
        ends_at=ends,
        labels={
            "alertname": name,
            "severity": severity,
            "srekit_service": service,
            "srekit_slo": "availability",
        },
        annotations={"summary": f"{service}/availability is burning its error budget"},
    )


def _notification(*alerts: ReceivedAlert, sender: str = "am-1") -> Notification:
    status = "firing" if any(a.status is AlertStatus.FIRING for a in alerts) else "resolved"
    body = json.dumps(
        {
            "sender": sender,  # an HA pair's bodies differ (externalURL), their alerts do not
            "alerts": [
                [a.fingerprint, a.status.value, a.starts_at.isoformat(), str(a.ends_at)]
                for a in alerts
            ],
        }
    ).encode()
    return Notification(
        receiver="srekit", status=status, group_key="{}:{}", alerts=alerts, body=body
    )


# One realistic story: a checkout page with two alerts, a search ticket, then checkout again
# two hours later (a new instance of the first alert: same fingerprint, new startsAt).
A = {"starts": T0}
B = {"starts": T0 + M}
SEQUENCE: list[Notification] = [
    _notification(_alert("a1", **A)),
    _notification(_alert("a1", **A), _alert("b2", **B)),
    _notification(_alert("c3", starts=T0 + 2 * M, service="search", severity="ticket")),
    _notification(_alert("a1", **A, ends=T0 + 10 * M), _alert("b2", **B)),
    _notification(_alert("a1", **A, ends=T0 + 10 * M), _alert("b2", **B, ends=T0 + 20 * M)),
    _notification(
        _alert("c3", starts=T0 + 2 * M, ends=T0 + 30 * M, service="search", severity="ticket")
    ),
    _notification(_alert("a1", starts=T0 + 120 * M)),
    _notification(_alert("a1", starts=T0 + 120 * M, ends=T0 + 150 * M)),
    _notification(_alert("u9", starts=T0 + 5 * M, severity="info", name="Watchdog")),
]


def _state(engine: Engine) -> dict[str, Any]:
    """What the store holds, without ids or arrival times: comparable across stores."""
    with transaction(engine, read_only=True) as session:
        incidents = repo.list_incidents(session, state="all", limit=None)
        alerts = repo.list_alerts(session, limit=None)
        by_id = {row.id: row for row in incidents}

        def key(incident_id: int | None) -> str | None:
            return None if incident_id is None else by_id[incident_id].opened_at.isoformat()

        return {
            "incidents": sorted(
                (
                    row.opened_at.isoformat(),
                    row.title,
                    row.severity,
                    row.state,
                    None if row.resolved_at is None else row.resolved_at.isoformat(),
                    row.service_names,
                    row.slos,
                    tuple(sorted(a.fingerprint for a in row.alerts)),
                    row.open_group_key is not None,
                )
                for row in incidents
            ),
            "alerts": sorted(
                (
                    a.fingerprint,
                    a.starts_at.isoformat(),
                    a.status,
                    None if a.ends_at is None else a.ends_at.isoformat(),
                    a.route_index,
                    key(a.incident_id),
                )
                for a in alerts
            ),
        }


def _deliver(engine: Engine, notifications: Sequence[Notification]) -> None:
    for notification in notifications:
        receive_notification(engine, notification, now=NOW)


def test_a_storm_opens_one_incident_and_its_alerts_resolve_it(engine: Engine) -> None:
    _deliver(engine, SEQUENCE)
    state = _state(engine)
    assert state["incidents"] == [
        (
            T0.isoformat(),
            "checkout/availability is burning its error budget",
            "P1",
            "resolved",
            (T0 + 20 * M).isoformat(),  # the last alert's end, not when it arrived
            ("checkout",),
            ("checkout/availability",),
            ("a1", "b2"),
            False,
        ),
        (
            (T0 + 2 * M).isoformat(),
            "search/availability is burning its error budget",
            "P3",
            "resolved",
            (T0 + 30 * M).isoformat(),
            ("search",),
            ("search/availability",),
            ("c3",),
            False,
        ),
        (
            (T0 + 120 * M).isoformat(),
            "checkout/availability is burning its error budget",
            "P1",
            "resolved",
            (T0 + 150 * M).isoformat(),
            ("checkout",),
            ("checkout/availability",),
            ("a1",),
            False,
        ),
    ]
    unrouted = [a for a in state["alerts"] if a[0] == "u9"]
    assert unrouted == [("u9", (T0 + 5 * M).isoformat(), "firing", None, None, None)]
    with transaction(engine, read_only=True) as session:
        first = repo.list_incidents(session, state="all", limit=None)[-1]
        kinds = [e.kind for e in repo.incident_events(session, incident_id=first.id)]
        actions = [a.action for a in repo.list_audit(session) if a.entity_kind == "incident"]
    assert kinds == [
        "state_changed",  # opened
        "alert_fired",
        "alert_fired",
        "alert_resolved",
        "alert_resolved",
        "state_changed",  # resolved
    ]
    assert actions.count("incident.open") == 3
    assert actions.count("incident.resolve") == 3


def test_repeats_change_nothing(engine: Engine) -> None:
    first = receive_notification(engine, SEQUENCE[0], now=NOW)
    again = receive_notification(engine, SEQUENCE[0], now=NOW)
    twin = SEQUENCE[0].alerts
    ha = receive_notification(engine, _notification(*twin, sender="am-2"), now=NOW)
    assert first.new_alerts == 1
    assert first.incidents_opened is not None
    assert len(first.incidents_opened) == 1
    assert again.duplicate
    assert not ha.duplicate
    assert (ha.new_alerts, ha.resolved_alerts, ha.incidents_opened) == (0, 0, [])


def test_a_firing_alert_never_returns_after_its_resolution(engine: Engine) -> None:
    _deliver(engine, SEQUENCE[:5])
    late_retry = _notification(_alert("a1", **A), _alert("b2", **B), sender="retry")
    _deliver(engine, [late_retry])
    incidents = _state(engine)["incidents"]
    checkout = [i for i in incidents if i[5] == ("checkout",)]
    assert [(i[3], i[4]) for i in checkout] == [("resolved", (T0 + 20 * M).isoformat())]
    alerts = {a[0]: a[2] for a in _state(engine)["alerts"]}
    assert alerts == {"a1": "resolved", "b2": "resolved", "c3": "firing"}


def _local_shuffle(rng: random.Random, notifications: Sequence[Notification]) -> list[Notification]:
    """Deliveries as Alertmanager can make them: each notification once to three times (retries,
    an HA twin, re-sent groups), and neighbours swapped (a retry landing after the next one)."""
    deliveries: list[tuple[float, Notification]] = []
    for position, notification in enumerate(notifications):
        for copy in range(rng.randint(1, 3)):
            twin = _notification(*notification.alerts, sender=f"am-{copy % 2}")
            deliveries.append((position + rng.uniform(0, 1.8), twin))
    deliveries.sort(key=lambda pair: pair[0])
    return [n for _, n in deliveries]


@pytest.mark.parametrize("seed", range(12))
def test_shuffled_repeated_deliveries_store_what_in_order_ones_do(
    tmp_path: Path, seed: int
) -> None:
    expected_engine = _sqlite(tmp_path / "in-order.db")
    _deliver(expected_engine, SEQUENCE)
    shuffled_engine = _sqlite(tmp_path / "shuffled.db")
    _deliver(shuffled_engine, _local_shuffle(random.Random(seed), SEQUENCE))
    assert _state(shuffled_engine) == _state(expected_engine)


def test_concurrent_senders_store_what_one_sender_does(engine: Engine, tmp_path: Path) -> None:
    expected_engine = _sqlite(tmp_path / "expected.db")
    _deliver(expected_engine, SEQUENCE)
    errors: list[BaseException] = []

    def sender(seed: int) -> None:
        try:
            _deliver(engine, _local_shuffle(random.Random(seed), SEQUENCE))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _state(engine) == _state(expected_engine)


def test_a_more_severe_alert_raises_the_incidents_severity(engine: Engine) -> None:
    routing = AlertRouting(routes=(AlertRoute(match_re={"severity": "page|critical"}),))
    page = _alert("d4", starts=T0 + 3 * M)
    critical = ReceivedAlert(
        fingerprint="e5",
        status=AlertStatus.FIRING,
        starts_at=T0 + 4 * M,
        labels={**page.labels, "severity": "critical"},
    )
    for notification in (_notification(page), _notification(critical)):
        receive_notification(engine, notification, routing_of=lambda _: routing, now=NOW)
    with transaction(engine, read_only=True) as session:
        (row,) = repo.list_incidents(session, state="all")
        assert row.severity == Severity.P0.value
        assert row.state == IncidentState.TRIGGERED.value
        assert sorted(a.fingerprint for a in row.alerts) == ["d4", "e5"]


def _sqlite(path: Path) -> Engine:
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


# --- the sequence a real Alertmanager sent (tests/alertmanager_capture.py made it) ----------

CAPTURED = Path(__file__).resolve().parents[1] / "data" / "alertmanager_sequence.json"


def _captured(body: dict[str, Any], *, sender: str | None = None) -> Notification:
    from srekit.alertmanager.webhook import WebhookIn, received_alerts

    if sender is not None:  # an HA pair's twin: another externalURL, the same alerts
        body = {**body, "externalURL": f"http://{sender}.local"}
    raw = json.dumps(body).encode()
    payload = WebhookIn.model_validate_json(raw)
    return Notification(
        receiver=payload.receiver,
        status=payload.status,
        group_key=payload.group_key,
        alerts=received_alerts(payload),
        body=raw,
    )


@pytest.mark.parametrize("seed", range(8))
def test_alertmanagers_own_sequence_stores_the_same_state_however_delivered(
    tmp_path: Path, seed: int
) -> None:
    bodies = json.loads(CAPTURED.read_text())
    in_order = _sqlite(tmp_path / "in-order.db")
    _deliver(in_order, [_captured(body) for body in bodies])
    expected = _state(in_order)
    # checkout's page and ticket alerts take different routes: two incidents, by opening
    assert [(i[2], i[3], i[4], i[5], i[7]) for i in expected["incidents"]] == [
        ("P1", "resolved", "2026-11-01T11:30:00+00:00", ("checkout",), ("c65ff6eec51f0e2d",)),
        ("P3", "resolved", "2026-11-01T11:00:00+00:00", ("checkout",), ("1cf0df99385502f8",)),
        ("P1", "resolved", "2026-11-01T11:15:00+00:00", ("payments",), ("6d98cae97cd159a9",)),
    ]
    rng = random.Random(seed)
    deliveries: list[tuple[float, Notification]] = []
    for position, body in enumerate(bodies):
        for copy in range(rng.randint(1, 3)):  # retries (same bytes) and an HA twin
            sender = None if copy == 0 else rng.choice([None, "am-2"])
            deliveries.append((position + rng.uniform(0, 1.8), _captured(body, sender=sender)))
    shuffled = _sqlite(tmp_path / "shuffled.db")
    _deliver(shuffled, [n for _, n in sorted(deliveries, key=lambda pair: pair[0])])
    assert _state(shuffled) == expected
