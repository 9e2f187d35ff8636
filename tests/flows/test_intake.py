"""Alert intake: incidents open, join and resolve from the alerts' own instants, and the stored
state depends only on which notifications arrived, not on their order, repeats or concurrency."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine

from srekit.core.incident import IncidentState, Severity
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.core.routing import DEFAULT_ROUTING, AlertRoute, AlertRouting, route_alert
from srekit.errors import SpecError, StoreUnavailable
from srekit.flows.intake import (
    IntakeResult,
    Notification,
    receive_notification,
    receive_notifications,
)
from srekit.store import repo
from srekit.store.database import create_store_engine, transaction, upgrade
from tests.postgres_fixture import PostgresServer

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
SEQUENCE: list[Notification] = [
    _notification(_alert("a1", starts=T0)),
    _notification(_alert("a1", starts=T0), _alert("b2", starts=T0 + M)),
    _notification(_alert("c3", starts=T0 + 2 * M, service="search", severity="ticket")),
    _notification(_alert("a1", starts=T0, ends=T0 + 10 * M), _alert("b2", starts=T0 + M)),
    _notification(
        _alert("a1", starts=T0, ends=T0 + 10 * M), _alert("b2", starts=T0 + M, ends=T0 + 20 * M)
    ),
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
    late_retry = _notification(_alert("a1", starts=T0), _alert("b2", starts=T0 + M), sender="retry")
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


# --- many notifications in one transaction (the intake queue's group commit) ----------------


def _received(notifications: Sequence[Notification]) -> list[tuple[Notification, datetime]]:
    return [(notification, NOW) for notification in notifications]


def _bad_service(fingerprint: str, *, starts: datetime) -> ReceivedAlert:
    """An alert srekit cannot open an incident for: its service label is not a name."""
    alert = _alert(fingerprint, starts=starts)
    return replace(alert, labels={**alert.labels, "srekit_service": "Not A Name"})


def _figures(result: IntakeResult | Exception) -> tuple[object, ...]:
    assert isinstance(result, IntakeResult), result
    assert result.incidents_opened is not None
    assert result.incidents_resolved is not None
    return (
        result.duplicate,
        result.new_alerts,
        result.resolved_alerts,
        result.unrouted_alerts,
        len(result.incidents_opened),
        len(result.incidents_resolved),
    )


@pytest.mark.parametrize("seed", range(4))
def test_a_batch_stores_and_answers_what_one_by_one_deliveries_do(
    engine: Engine, tmp_path: Path, seed: int
) -> None:
    shuffled = _local_shuffle(random.Random(seed), SEQUENCE)
    deliveries = [*shuffled, shuffled[0]]  # and a body received before, at the end
    one_by_one = _sqlite(tmp_path / "one-by-one.db")
    expected = [receive_notification(one_by_one, n, now=NOW) for n in deliveries]
    outcomes = receive_notifications(engine, _received(deliveries))
    assert [_figures(o) for o in outcomes] == [_figures(r) for r in expected]
    assert _figures(expected[-1])[0]  # the duplicate
    assert _state(engine) == _state(one_by_one)


def test_a_bad_notification_in_a_batch_rolls_back_alone(engine: Engine, tmp_path: Path) -> None:
    bad = _notification(_alert("x1", starts=T0 + 3 * M), _bad_service("x2", starts=T0 + 4 * M))
    outcomes = receive_notifications(engine, _received([SEQUENCE[0], bad, *SEQUENCE[1:3]]))
    assert isinstance(outcomes[1], SpecError)
    assert outcomes[1].field == "services"
    assert [_figures(outcomes[i]) for i in (0, 2, 3)] == [
        (False, 1, 0, 0, 1, 0),  # a1 opens the checkout incident
        (False, 1, 0, 0, 0, 0),  # b2 joins it
        (False, 1, 0, 0, 1, 0),  # c3 opens the search incident
    ]
    expected = _sqlite(tmp_path / "without-the-bad-one.db")
    _deliver(expected, SEQUENCE[:3])
    assert _state(engine) == _state(expected)  # nothing of the bad one: neither x1 nor x2
    with transaction(engine, read_only=True) as session:
        assert not repo.notification_seen(session, body=bad.body)
    again = receive_notifications(engine, _received([bad]))  # refused again, not a duplicate
    assert isinstance(again[0], SpecError)


def test_a_batch_the_store_cannot_begin_gives_every_sender_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _sqlite(tmp_path / "busy.db")
    monkeypatch.setattr("srekit.store.database.BUSY_TIMEOUT_S", 0.1)
    with transaction(engine):  # another writer of the process holds the write lock
        outcomes = receive_notifications(engine, _received(SEQUENCE[:3]))
    assert [type(outcome) for outcome in outcomes] == [StoreUnavailable] * 3
    assert _state(engine) == {"incidents": [], "alerts": []}


def test_a_batch_that_fails_as_a_whole_is_applied_one_by_one(engine: Engine) -> None:
    """The routing is read once per transaction: when that fails, the batch is given up and
    each notification applied alone, each getting the error that applying it alone gives."""
    reads: list[int] = []

    def unreadable(_: object) -> AlertRouting:
        reads.append(1)
        raise SpecError("the stored routing is unreadable", field="routes")

    outcomes = receive_notifications(engine, _received(SEQUENCE[:3]), routing_of=unreadable)
    assert [str(outcome) for outcome in outcomes] == [
        "routes: the stored routing is unreadable"
    ] * 3
    assert len(reads) == 4  # the batch's transaction, then each notification's own
    assert _state(engine) == {"incidents": [], "alerts": []}


def _lock_waiter(postgres: PostgresServer, database: str) -> int:
    """The process id of the backend waiting for a row lock in `database` (polled: the
    other transaction is started by another thread)."""
    with psycopg.connect(postgres.dsn(database), autocommit=True) as admin:
        for _ in range(1000):
            row = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                (database,),
            ).fetchone()
            if row is not None:
                return int(row[0])
            time.sleep(0.01)
    raise AssertionError("no backend waited for the lock")


def _apply_in_thread(engine: Engine, deliveries: Sequence[Notification]) -> Any:
    outcomes: list[IntakeResult | Exception] = []
    thread = threading.Thread(
        target=lambda: outcomes.extend(receive_notifications(engine, _received(deliveries)))
    )
    thread.start()
    return thread, outcomes


@pytest.mark.parametrize("terminated", [False, True])
def test_a_replica_conflicting_with_a_batch_on_postgresql_loses_no_notification(
    postgres: PostgresServer, tmp_path: Path, terminated: bool
) -> None:
    """Another replica opens the checkout group's incident and commits while the batch waits
    on its row: the batch's notification for that group conflicts, and is applied alone after
    the batch, joining the replica's incident. With `terminated`, the batch's connection is
    killed meanwhile: the transaction is lost, and every notification is applied alone."""
    url = postgres.create_database("replicas")
    database = url.rsplit("/", 1)[1]
    engine, replica = create_store_engine(url), create_store_engine(url)
    upgrade(engine)
    checkout = route_alert(DEFAULT_ROUTING, SEQUENCE[0].alerts[0].labels)
    assert checkout is not None
    with transaction(replica) as session:
        opened = repo.create_incident(
            session,
            title="checkout/availability is burning its error budget",
            severity=Severity.P1,
            opened_at=T0,
            actor="alertmanager",
            services=("checkout",),
            slos=("checkout/availability",),
            group_key=checkout.group_key,
            now=NOW,
        )
        thread, outcomes = _apply_in_thread(engine, [SEQUENCE[2], SEQUENCE[0]])
        waiter = _lock_waiter(postgres, database)
        if terminated:
            with psycopg.connect(postgres.dsn(database), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (waiter,))
    thread.join()
    assert [_figures(outcome) for outcome in outcomes] == [
        (False, 1, 0, 0, 1, 0),  # c3 opens the search incident
        (False, 1, 0, 0, 0, 0),  # a1 joins the replica's incident instead of opening one
    ]
    expected = _sqlite(tmp_path / "expected.db")
    _deliver(expected, [SEQUENCE[0], SEQUENCE[2]])
    assert _state(engine) == _state(expected)
    with transaction(engine, read_only=True) as session:
        (row,) = [r for r in repo.list_incidents(session, state="all") if r.id == opened.id]
        assert [a.fingerprint for a in row.alerts] == ["a1"]
    replica.dispose()
    engine.dispose()


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
