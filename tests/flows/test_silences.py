"""Incidents' silences against a real Alertmanager: made on acknowledgement, expired when the
incident resolves or closes, and the watch resolving a silenced incident whose alerts ended
(Alertmanager never tells srekit: it mutes the resolved notification)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, select

from srekit.alertmanager import AlertmanagerClient
from srekit.core.incident import IncidentState, Severity
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.core.silences import WATCH_BODY_PREFIX
from srekit.errors import Conflict, NotifierUnavailable, SpecError
from srekit.flows.incidents import declare_incident, incident_view
from srekit.flows.intake import Notification, receive_notification
from srekit.flows.silences import (
    SILENCE_ACTOR,
    change_incident,
    expire_silences,
    watch_silenced_incidents,
)
from srekit.store.database import transaction
from srekit.store.repo import AlertNotificationRow, add_silence, get_incident
from tests.alertmanager_fixture import AlertmanagerServer, postable_alert
from tests.served import free_port

pytestmark = pytest.mark.integration

PAGE = {
    "alertname": "CheckoutAvailabilityErrorBudgetBurn",
    "severity": "page",
    "srekit_service": "checkout",
    "srekit_slo": "availability",
}


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """SQLite only: these tests are about Alertmanager, not the store."""
    return sqlite_engine


@pytest.fixture
def client(alertmanager: AlertmanagerServer) -> Iterator[AlertmanagerClient]:
    with AlertmanagerClient(alertmanager.url, timeout_s=5.0, backoff_s=0.05) as client:
        yield client


@pytest.fixture
def down() -> Iterator[AlertmanagerClient]:
    """An Alertmanager that is not running."""
    with AlertmanagerClient(f"http://127.0.0.1:{free_port()}", retries=1) as client:
        yield client


def _now() -> datetime:
    return datetime.now(UTC)


def _fire(
    engine: Engine, alertmanager: AlertmanagerServer, *instances: str
) -> tuple[int, datetime, list[str]]:
    """Alerts firing in Alertmanager (as Prometheus posts them, one per `instance`) and
    delivered to srekit (as Alertmanager's webhook does): (the incident they opened, their
    start, their fingerprints)."""
    starts_at = _now() - timedelta(minutes=10)  # microseconds kept: webhooks send every digit
    labels = [{**PAGE, "instance": instance} for instance in instances]
    alertmanager.post_alerts(
        [
            postable_alert(one, starts_at=starts_at, ends_at=_now() + timedelta(minutes=4))
            for one in labels
        ]
    )
    prints = {a["labels"]["instance"]: a["fingerprint"] for a in alertmanager.alerts()}
    alerts = tuple(
        ReceivedAlert(
            fingerprint=prints[one["instance"]],
            status=AlertStatus.FIRING,
            starts_at=starts_at,
            labels=one,
        )
        for one in labels
    )
    body = json.dumps([[a.fingerprint, a.starts_at.isoformat()] for a in alerts]).encode()
    result = receive_notification(
        engine,
        Notification(receiver="srekit", status="firing", group_key="g", alerts=alerts, body=body),
        now=_now(),
    )
    (number,) = result.incidents_opened or []
    return number, starts_at, [prints[i] for i in instances]


def _resolve_in_alertmanager(
    alertmanager: AlertmanagerServer, instance: str, start: datetime
) -> None:
    alertmanager.post_alerts(
        [postable_alert({**PAGE, "instance": instance}, starts_at=start, ends_at=_now())]
    )


def _silence_texts(engine: Engine, number: int) -> list[str]:
    view = incident_view(engine, incident_id=number)
    return [entry.text for entry in view.timeline if entry.kind.value == "silence"]


def test_an_acknowledgement_silences_the_firing_alerts_until_the_incident_resolves(
    engine: Engine, alertmanager: AlertmanagerServer, client: AlertmanagerClient
) -> None:
    number, _, _ = _fire(engine, alertmanager, "a", "b")
    now = _now()
    view, outcome = change_incident(
        engine,
        incident_id=number,
        to=IncidentState.ACKNOWLEDGED,
        actor="ana",
        now=now,
        silence=True,
        silencer=client,
        duration_s=3600,
    )
    assert view.incident.state is IncidentState.ACKNOWLEDGED
    assert outcome.created is not None
    assert (outcome.expired, outcome.failures) == ((), ())
    assert view.silences == (outcome.created,)

    silence = client.get_silence(outcome.created)
    assert silence.state == "active"
    assert silence.labels == PAGE  # what both alerts share: not `instance`
    assert silence.created_by == "ana"
    assert silence.comment == f"srekit incident #{number}: {view.incident.title}"
    assert abs(silence.ends_at - (now + timedelta(hours=1))) < timedelta(milliseconds=1)
    assert {a["labels"]["instance"]: a["status"]["silencedBy"] for a in alertmanager.alerts()} == {
        "a": [outcome.created],
        "b": [outcome.created],
    }
    (entry,) = [e for e in view.timeline if e.kind.value == "silence"]
    assert entry.actor == "ana"
    assert entry.data["silence"] == outcome.created
    assert entry.data["matchers"] == PAGE
    assert entry.text.startswith("silenced in Alertmanager until ")
    assert 'alertname="CheckoutAvailabilityErrorBudgetBurn"' in entry.text

    resolved, ended = change_incident(
        engine,
        incident_id=number,
        to=IncidentState.RESOLVED,
        actor="bo",
        now=_now(),
        silencer=client,
    )
    assert (ended.created, ended.expired, ended.failures) == (None, (outcome.created,), ())
    assert resolved.silences == ()
    assert client.get_silence(outcome.created).state == "expired"
    assert (
        _silence_texts(engine, number)[-1] == f"silence {outcome.created} expired in Alertmanager"
    )
    assert [a["status"]["silencedBy"] for a in alertmanager.alerts()] == [[], []]


def test_what_cannot_be_silenced_changes_nothing(
    engine: Engine, alertmanager: AlertmanagerServer, client: AlertmanagerClient
) -> None:
    number, _, _ = _fire(engine, alertmanager, "a")
    with pytest.raises(Conflict, match=r"^no Alertmanager configured: set SREKIT_ALERTMANAGER_URL"):
        change_incident(
            engine, incident_id=number, to=IncidentState.ACKNOWLEDGED, actor="ana", now=_now(),
            silence=True,
        )  # fmt: skip
    with pytest.raises(SpecError, match="only an acknowledgement silences") as refused:
        change_incident(
            engine, incident_id=number, to=IncidentState.RESOLVED, actor="ana", now=_now(),
            silence=True, silencer=client,
        )  # fmt: skip
    assert refused.value.field == "silence"
    declared = declare_incident(
        engine, title="by hand", severity=Severity.P1, actor="ana", now=_now()
    )
    with pytest.raises(Conflict, match=r"has no firing alert to silence \(nothing was changed\)$"):
        change_incident(
            engine, incident_id=declared.incident.id, to=IncidentState.ACKNOWLEDGED, actor="ana",
            now=_now(), silence=True, silencer=client,
        )  # fmt: skip
    for incident in (number, declared.incident.id):
        view = incident_view(engine, incident_id=incident)
        assert (view.incident.state, view.silences) == (IncidentState.TRIGGERED, ())
    assert client.list_silences() == []


def test_the_acknowledgement_stands_when_alertmanager_is_down(
    engine: Engine, alertmanager: AlertmanagerServer, down: AlertmanagerClient
) -> None:
    number, _, _ = _fire(engine, alertmanager, "a")
    view, outcome = change_incident(
        engine, incident_id=number, to=IncidentState.ACKNOWLEDGED, actor="ana", now=_now(),
        silence=True, silencer=down,
    )  # fmt: skip
    assert view.incident.state is IncidentState.ACKNOWLEDGED
    assert (outcome.created, view.silences) == (None, ())
    (failure,) = outcome.failures
    assert failure.startswith(f"incident {number} is acknowledged, but its alerts are not silenced")
    assert f"Alertmanager at {down.url} cannot be reached" in failure
    (text,) = _silence_texts(engine, number)
    assert text.startswith("no silence could be made in Alertmanager: Alertmanager at")


def test_silences_that_cannot_be_expired_stay_listed_until_they_are(
    engine: Engine,
    alertmanager: AlertmanagerServer,
    client: AlertmanagerClient,
    down: AlertmanagerClient,
) -> None:
    number, _, _ = _fire(engine, alertmanager, "a")
    _, made = change_incident(
        engine, incident_id=number, to=IncidentState.ACKNOWLEDGED, actor="ana", now=_now(),
        silence=True, silencer=client,
    )  # fmt: skip
    assert made.created is not None
    view, outcome = change_incident(
        engine, incident_id=number, to=IncidentState.RESOLVED, actor="bo", now=_now(),
        silencer=down,
    )  # fmt: skip
    assert view.incident.state is IncidentState.RESOLVED  # stored all the same
    assert (outcome.expired, outcome.unexpired) == ((), (made.created,))
    assert outcome.failures[0].startswith(f"silence {made.created} of incident {number} could")
    assert view.silences == (made.created,)
    assert client.get_silence(made.created).state == "active"
    assert _silence_texts(engine, number)[-1].startswith(
        f"silence {made.created} could not be expired: Alertmanager at {down.url}"
    )
    # quiet: a failure already in the timeline is not written again
    again = expire_silences(engine, down, actor=SILENCE_ACTOR, now=_now(), quiet={made.created})
    assert again.unexpired == (made.created,)
    assert len(_silence_texts(engine, number)) == 2
    # without an Alertmanager configured, nothing can be expired either: said, not hidden
    closed, unconfigured = change_incident(
        engine, incident_id=number, to=IncidentState.CLOSED, actor="bo", now=_now(),
        postmortem_waived="a drill",
    )  # fmt: skip
    assert closed.silences == (made.created,)
    assert "no Alertmanager is configured (SREKIT_ALERTMANAGER_URL)" in unconfigured.failures[0]
    assert unconfigured.unexpired == (made.created,)

    done = expire_silences(engine, client, actor=SILENCE_ACTOR, now=_now())
    assert (done.expired, done.failures) == ((made.created,), ())
    assert client.get_silence(made.created).state == "expired"
    assert incident_view(engine, incident_id=number).silences == ()


def test_a_silence_alertmanager_forgot_leaves_the_incident(
    engine: Engine, client: AlertmanagerClient
) -> None:
    declared = declare_incident(
        engine, title="by hand", severity=Severity.P2, actor="ana", now=_now(),
    )  # fmt: skip
    number = declared.incident.id
    forgotten = "6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b"
    with transaction(engine) as session:
        add_silence(
            session, row=get_incident(session, incident_id=number), silence_id=forgotten,
            actor="ana", text="silenced", at=_now(),
        )  # fmt: skip
    # an open incident keeps its silences
    assert expire_silences(engine, client, actor=SILENCE_ACTOR, now=_now()).expired == ()
    change_incident(engine, incident_id=number, to=IncidentState.RESOLVED, actor="bo", now=_now())
    outcome = expire_silences(engine, client, actor=SILENCE_ACTOR, now=_now())
    assert (outcome.expired, outcome.failures) == ((forgotten,), ())
    assert _silence_texts(engine, number)[-1] == f"silence {forgotten} is no longer in Alertmanager"
    view = incident_view(engine, incident_id=number)
    assert view.silences == ()
    assert view.timeline[-1].actor == SILENCE_ACTOR


def test_the_watch_resolves_a_silenced_incident_whose_alerts_ended(
    engine: Engine, alertmanager: AlertmanagerServer, client: AlertmanagerClient
) -> None:
    number, start, prints = _fire(engine, alertmanager, "a", "b")
    _, made = change_incident(
        engine, incident_id=number, to=IncidentState.ACKNOWLEDGED, actor="ana", now=_now(),
        silence=True, silencer=client,
    )  # fmt: skip
    assert made.created is not None

    # both firing: nothing to do, whatever the grace
    quiet = watch_silenced_incidents(engine, client, now=_now(), startup_grace_s=0)
    assert (quiet.watched, quiet.ended_alerts, quiet.resolved, quiet.failure) == (1, 0, (), None)

    # Prometheus resolves "a": Alertmanager mutes the notification and forgets the alert
    _resolve_in_alertmanager(alertmanager, "a", start)
    assert [a["labels"]["instance"] for a in alertmanager.alerts()] == ["b"]
    # Alertmanager started moments ago: an absent alert may just not be back yet
    young = watch_silenced_incidents(engine, client, now=_now(), startup_grace_s=3600)
    assert (young.ended_alerts, young.resolved) == (0, ())
    seen = _now()
    one = watch_silenced_incidents(engine, client, now=seen, startup_grace_s=0)
    assert (one.ended_alerts, one.resolved, one.expiry.expired) == (1, (), ())
    view = incident_view(engine, incident_id=number)
    assert view.incident.state is IncidentState.ACKNOWLEDGED
    assert {a.fingerprint: a.status for a in view.alert_details} == {
        prints[0]: "resolved",
        prints[1]: "firing",
    }
    assert {a.fingerprint: a.ends_at for a in view.alert_details}[prints[0]] == seen

    _resolve_in_alertmanager(alertmanager, "b", start)
    last = _now()
    both = watch_silenced_incidents(engine, client, now=last, startup_grace_s=0)
    assert (both.ended_alerts, both.resolved, both.expiry.expired) == (
        1,
        (number,),
        (made.created,),
    )
    view = incident_view(engine, incident_id=number)
    assert view.incident.state is IncidentState.RESOLVED
    assert (view.incident.resolved_at, view.resolved_by) == (last, "alertmanager")
    assert view.silences == ()
    assert client.get_silence(made.created).state == "expired"
    kinds = [(entry.kind.value, entry.actor) for entry in view.timeline][-3:]
    assert kinds == [
        ("alert_resolved", "alertmanager"),
        ("state_changed", "alertmanager"),
        ("silence", SILENCE_ACTOR),
    ]
    # nothing is left to watch
    assert watch_silenced_incidents(engine, client, now=_now(), startup_grace_s=0).watched == 0


def test_the_watchs_notifications_are_stored_like_alertmanagers(
    engine: Engine, alertmanager: AlertmanagerServer, client: AlertmanagerClient
) -> None:
    number, start, _ = _fire(engine, alertmanager, "a")
    change_incident(
        engine, incident_id=number, to=IncidentState.ACKNOWLEDGED, actor="ana", now=_now(),
        silence=True, silencer=client,
    )  # fmt: skip
    _resolve_in_alertmanager(alertmanager, "a", start)
    report = watch_silenced_incidents(engine, client, now=_now(), startup_grace_s=0)
    assert report.resolved == (number,)
    with transaction(engine, read_only=True) as session:
        (body,) = [
            row.body
            for row in session.scalars(select(AlertNotificationRow))
            if row.receiver == "srekit-silence-watch"
        ]
    assert body.encode().startswith(WATCH_BODY_PREFIX)
    assert json.loads(body.encode()[len(WATCH_BODY_PREFIX) :])["incident"] == number


def test_the_watch_says_why_when_alertmanager_is_down(
    engine: Engine, alertmanager: AlertmanagerServer, client: AlertmanagerClient,
    down: AlertmanagerClient,
) -> None:  # fmt: skip
    number, _, _ = _fire(engine, alertmanager, "a")
    change_incident(
        engine, incident_id=number, to=IncidentState.ACKNOWLEDGED, actor="ana", now=_now(),
        silence=True, silencer=client,
    )  # fmt: skip
    report = watch_silenced_incidents(engine, down, now=_now(), startup_grace_s=0)
    assert report.failure is not None
    assert f"Alertmanager at {down.url} cannot be reached" in report.failure
    assert incident_view(engine, incident_id=number).incident.state is IncidentState.ACKNOWLEDGED
    with pytest.raises(NotifierUnavailable):
        down.started_at()
    assert httpx.get(f"{alertmanager.url}/-/ready").status_code == 200
