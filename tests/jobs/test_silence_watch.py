"""The silence watch as `srekit serve` runs it: a loop in a thread that resolves a silenced
incident once its alert is gone from a real Alertmanager, and one watching replica on
PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from srekit.alertmanager import AlertmanagerClient
from srekit.core.incident import IncidentState, Severity
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.errors import StoreUnavailable
from srekit.flows.incidents import declare_incident, incident_view
from srekit.flows.intake import Notification, receive_notification
from srekit.flows.silences import change_incident
from srekit.jobs.silence_watch import SilenceWatch
from srekit.store.database import create_store_engine, upgrade
from tests.alertmanager_fixture import AlertmanagerServer, WebhookRecorder, postable_alert
from tests.postgres_fixture import PostgresServer
from tests.served import free_port

pytestmark = pytest.mark.integration

LABELS = {
    "alertname": "SearchLatencyErrorBudgetBurn",
    "severity": "page",
    "srekit_service": "search",
    "srekit_slo": "latency",
}


def _silenced_incident(
    engine: Engine, alertmanager: AlertmanagerServer, client: AlertmanagerClient
) -> tuple[int, datetime]:
    starts_at = datetime.now(UTC) - timedelta(minutes=5)
    alertmanager.post_alerts(
        [postable_alert(LABELS, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=9))]
    )
    (fingerprint,) = [a["fingerprint"] for a in alertmanager.alerts()]
    alert = ReceivedAlert(fingerprint, AlertStatus.FIRING, starts_at, labels=LABELS)
    result = receive_notification(
        engine,
        Notification("srekit", "firing", "g", (alert,), json.dumps(fingerprint).encode()),
        now=datetime.now(UTC),
    )
    (number,) = result.incidents_opened or []
    _, outcome = change_incident(
        engine,
        incident_id=number,
        to=IncidentState.ACKNOWLEDGED,
        actor="ana",
        now=datetime.now(UTC),
        silence=True,
        silencer=client,
    )
    assert outcome.created is not None
    return number, starts_at


def _wait(check: Callable[[], object], *, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "the watch did not get there in time"
        time.sleep(0.05)


def test_the_loop_resolves_the_incident_and_tells_the_gate(
    sqlite_engine: Engine, alertmanager: AlertmanagerServer, webhook_recorder: WebhookRecorder
) -> None:
    client = AlertmanagerClient(alertmanager.url)
    number, starts_at = _silenced_incident(sqlite_engine, alertmanager, client)
    told: list[Sequence[int]] = []
    watch = SilenceWatch(
        sqlite_engine,
        client,
        interval_s=0.2,
        startup_grace_s=0,
        on_resolved=told.append,
    )
    watch.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            watch.start()
        time.sleep(0.5)  # rounds go by: the alert still fires
        assert incident_view(sqlite_engine, incident_id=number).incident.open
        alertmanager.post_alerts(
            [postable_alert(LABELS, starts_at=starts_at, ends_at=datetime.now(UTC))]
        )
        _wait(lambda: told)
    finally:
        watch.stop()
        client.close()
    assert not watch.running
    assert told == [(number,)]
    view = incident_view(sqlite_engine, incident_id=number)
    assert (view.incident.state, view.silences) == (IncidentState.RESOLVED, ())
    # Alertmanager never told: the resolution was muted (the firing may have gone out before
    # the silence was made)
    sent = [alert["status"] for body in webhook_recorder.bodies() for alert in body["alerts"]]
    assert "resolved" not in sent


def test_a_failing_round_does_not_end_the_loop(sqlite_engine: Engine, tmp_path: Path) -> None:
    """A round that cannot reach Alertmanager reports it; one whose store fails raises, is
    logged, and the next round runs."""
    declared = declare_incident(
        sqlite_engine, title="t", severity=Severity.P1, actor="a", now=datetime.now(UTC)
    )
    assert declared.incident.id == 1
    client = AlertmanagerClient(f"http://127.0.0.1:{free_port()}", retries=1)
    broken = create_store_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    watch = SilenceWatch(broken, client, interval_s=0.05)
    with pytest.raises(StoreUnavailable):
        watch.run_once(at=datetime.now(UTC))
    watch.start()
    time.sleep(0.3)
    assert watch.running  # the failed rounds were logged, the loop goes on
    watch.stop()
    broken.dispose()
    with pytest.raises(ValueError, match="expected a positive interval"):
        SilenceWatch(sqlite_engine, client, interval_s=0)
    report = SilenceWatch(sqlite_engine, client).run_once(at=datetime.now(UTC))
    assert report is not None
    assert (report.watched, report.failure) == (0, None)  # nothing held: Alertmanager not asked
    client.close()


def test_one_replica_watches_on_postgresql(postgres: PostgresServer) -> None:
    url = postgres.create_database("silence_watch")
    engines = [create_store_engine(url), create_store_engine(url)]
    upgrade(engines[0])
    client = AlertmanagerClient(f"http://127.0.0.1:{free_port()}", retries=1)
    first, second = (SilenceWatch(engine, client) for engine in engines)
    try:
        now = datetime.now(UTC)
        assert first.run_once(at=now) is not None
        assert second.run_once(at=now) is None  # the first holds the lock
        first.stop()  # releases it
        assert second.run_once(at=now) is not None
        assert first.run_once(at=now) is None
    finally:
        first.stop()
        second.stop()
        for engine in engines:
            engine.dispose()
        client.close()
