"""Silences through Alertmanager's API v2: against a real Alertmanager, then against a closed
port and a local server answering what Alertmanager never would."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from srekit.alertmanager import AlertmanagerClient, SilenceMatcher
from srekit.errors import NotFound, NotifierUnavailable, SpecError
from tests.alertmanager_fixture import (
    AlertmanagerServer,
    WebhookRecorder,
    postable_alert,
)
from tests.served import free_port

pytestmark = pytest.mark.integration

CHECKOUT = {"srekit_service": "checkout", "srekit_slo": "availability"}


def _burn(service: str, slo: str, severity: str) -> dict[str, Any]:
    return postable_alert(
        {
            "alertname": f"{service.capitalize()}{slo.capitalize()}ErrorBudgetBurn",
            "srekit_service": service,
            "srekit_slo": slo,
            "severity": severity,
        },
        starts_at=datetime.now(UTC) - timedelta(minutes=10),
    )


def _silenced_by(alertmanager: AlertmanagerServer) -> dict[tuple[str, str], list[str]]:
    """(service, severity) → the IDs of the silences muting that alert, from /api/v2/alerts."""
    found: dict[tuple[str, str], list[str]] = {}
    for alert in alertmanager.alerts():
        labels = alert["labels"]
        state, silenced_by = alert["status"]["state"], alert["status"]["silencedBy"]
        assert state == ("suppressed" if silenced_by else "active")
        found[labels["srekit_service"], labels["severity"]] = silenced_by
    return found


@pytest.fixture
def client(alertmanager: AlertmanagerServer) -> Iterator[AlertmanagerClient]:
    with AlertmanagerClient(alertmanager.url + "/", timeout_s=5.0, backoff_s=0.05) as client:
        yield client


def test_a_silence_mutes_the_alerts_it_matches_until_it_is_expired(
    alertmanager: AlertmanagerServer,
    webhook_recorder: WebhookRecorder,
    client: AlertmanagerClient,
) -> None:
    now = datetime.now(UTC)
    ends_at = (now + timedelta(hours=2)).replace(microsecond=250_000)
    silence_id = client.create_silence(
        CHECKOUT,
        starts_at=now - timedelta(minutes=1),
        ends_at=ends_at,
        created_by="srekit",
        comment="Incident 42: checkout is being rolled back",
    )
    assert uuid.UUID(silence_id)

    silence = client.get_silence(silence_id)
    assert silence.silence_id == silence_id
    assert silence.state == "active"
    assert silence.labels == CHECKOUT
    assert silence.matchers == (
        SilenceMatcher("srekit_service", "checkout"),
        SilenceMatcher("srekit_slo", "availability"),
    )
    assert silence.ends_at == ends_at  # kept to the millisecond
    # a start in the past becomes the moment Alertmanager received the silence
    assert now - timedelta(seconds=5) <= silence.starts_at <= datetime.now(UTC)
    assert silence.created_by == "srekit"
    assert silence.comment == "Incident 42: checkout is being rolled back"
    assert client.list_silences() == [silence]
    assert client.list_silences({"srekit_service": "checkout"}) == [silence]
    assert client.list_silences({"srekit_service": "payments"}) == []

    alertmanager.post_alerts(
        [
            _burn("checkout", "availability", "page"),
            _burn("checkout", "availability", "ticket"),
            _burn("payments", "latency", "page"),
        ]
    )
    assert _silenced_by(alertmanager) == {
        ("checkout", "page"): [silence_id],
        ("checkout", "ticket"): [silence_id],
        ("payments", "page"): [],
    }
    first = webhook_recorder.wait_for(1)[0].json()
    assert first["groupLabels"]["srekit_service"] == "payments"  # checkout's were muted

    client.expire_silence(silence_id)
    expired = client.get_silence(silence_id)
    assert expired.state == "expired"
    assert silence.starts_at <= expired.ends_at <= datetime.now(UTC)
    assert _silenced_by(alertmanager) == {
        ("checkout", "page"): [],
        ("checkout", "ticket"): [],
        ("payments", "page"): [],
    }
    client.expire_silence(silence_id)  # again: nothing changes, nothing fails
    assert client.list_silences() == [expired]
    # muted alerts are sent once their silence ends, at the group's next interval
    second = webhook_recorder.wait_for(2)[1].json()
    assert second["groupLabels"]["srekit_service"] == "checkout"
    assert len(second["alerts"]) == 2
    assert [r.answered for r in webhook_recorder.requests] == [200, 200]


def test_a_silence_starting_later_is_pending_until_then(client: AlertmanagerClient) -> None:
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    silence_id = client.create_silence(
        {"srekit_service": "search"},
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        created_by="alice",
        comment="maintenance window",
    )
    pending = client.get_silence(silence_id)
    assert (pending.state, pending.starts_at) == ("pending", starts_at)
    client.expire_silence(silence_id)
    assert client.get_silence(silence_id).state == "expired"


def test_values_are_matched_exactly_whatever_their_characters(
    client: AlertmanagerClient,
) -> None:
    tricky = {"summary_key": 'a "quoted" \\ back\nslash, {x=~".*"}'}
    now = datetime.now(UTC)
    silence_id = client.create_silence(
        tricky, starts_at=now, ends_at=now + timedelta(hours=1), created_by="srekit", comment="x"
    )
    found = client.list_silences(tricky)
    assert [s.silence_id for s in found] == [silence_id]
    assert found[0].labels == tricky
    assert client.list_silences({"summary_key": 'a "quoted"'}) == []


def test_a_silence_made_elsewhere_is_read_with_its_regex_matchers(
    alertmanager: AlertmanagerServer, client: AlertmanagerClient
) -> None:
    now = datetime.now(UTC)
    made = httpx.post(
        f"{alertmanager.url}/api/v2/silences",
        json={
            "matchers": [
                {"name": "severity", "value": "page|ticket", "isRegex": True, "isEqual": True},
                {"name": "team", "value": "payments", "isRegex": False, "isEqual": False},
            ],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": "amtool",
            "comment": "by hand",
        },
    )
    assert made.status_code == 200, made.text
    (silence,) = client.list_silences()
    assert silence.matchers == (
        SilenceMatcher("severity", "page|ticket", is_regex=True),
        SilenceMatcher("team", "payments", is_equal=False),
    )
    assert silence.labels == {}  # not a plain set of labels: no alert "carries" a regex


def test_an_unknown_silence_is_not_found(client: AlertmanagerClient) -> None:
    unknown = str(uuid.uuid4())
    with pytest.raises(NotFound, match=f"has no silence {unknown}$"):
        client.get_silence(unknown)
    with pytest.raises(NotFound, match=f"has no silence {unknown}$"):
        client.expire_silence(unknown)  # Alertmanager answers 500 "silence not found"
    with pytest.raises(NotFound, match=r"no silence 'nope': its IDs are UUIDs$"):
        client.get_silence("nope")


def test_alertmanager_refusing_a_silence_is_unavailable_with_its_reason(
    client: AlertmanagerClient,
) -> None:
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(NotifierUnavailable) as refused:
        client.create_silence(
            CHECKOUT,
            starts_at=long_ago,
            ends_at=long_ago + timedelta(hours=1),
            created_by="srekit",
            comment="too late",
        )
    assert str(refused.value) == (
        f"Alertmanager at {client.url} refused creating a silence (HTTP 400):"
        " Failed to create silence: end time can't be in the past"
    )
    assert client.list_silences() == []


NOW = datetime(2026, 11, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("labels", "changes", "field", "message"),
    [
        ({}, {}, "labels", "expected at least one label to match, got none"),
        ({"1st": "x"}, {}, "labels", "expected a label name ([a-zA-Z_][a-zA-Z0-9_]*), got '1st'"),
        ({"a": "", "b": ""}, {}, "labels", "expected at least one label with a value"),
        ({"a": 1}, {}, "labels.a", "expected text, got 1"),
        ({"a": "x"}, {"starts_at": NOW.replace(tzinfo=None)}, "starts_at", "with a zone"),
        ({"a": "x"}, {"ends_at": NOW}, "ends_at", "expected an end after the start"),
        ({"a": "x"}, {"created_by": " "}, "created_by", "expected some text, got none"),
        ({"a": "x"}, {"comment": ""}, "comment", "expected some text, got none"),
    ],
)
def test_a_silence_alertmanager_would_refuse_is_not_sent(
    webhook_recorder: WebhookRecorder,
    labels: dict[str, Any],
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    arguments: dict[str, Any] = {
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=1),
        "created_by": "srekit",
        "comment": "c",
        **changes,
    }
    client = AlertmanagerClient(webhook_recorder.url)
    with pytest.raises(SpecError) as refused:
        client.create_silence(labels, **arguments)
    assert refused.value.field == field
    assert message in refused.value.detail
    assert webhook_recorder.requests == []


@pytest.mark.parametrize(
    "url", ["alertmanager:9093", "ftp://alertmanager", "http://", "/api/v2", "http://a b"]
)
def test_only_absolute_http_urls_are_taken(url: str) -> None:
    with pytest.raises(SpecError, match=r"expected an http:// or https:// URL such as http://"):
        AlertmanagerClient(url)


def test_a_closed_port_is_unavailable_after_the_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with AlertmanagerClient(url, retries=2, backoff_s=0.0) as client:
        with pytest.raises(NotifierUnavailable) as listing:
            client.list_silences()
        with pytest.raises(NotifierUnavailable) as creating:
            client.create_silence(
                CHECKOUT,
                starts_at=NOW,
                ends_at=NOW + timedelta(days=1000),
                created_by="s",
                comment="c",
            )
    expected = (
        f"Alertmanager at {url} cannot be reached: connection refused (is it running there?)"
        " (2 attempts)"
    )
    assert str(listing.value) == expected
    assert str(creating.value) == expected  # the connection failed: safe to try again


def _future_silence(client: AlertmanagerClient) -> str:
    now = datetime.now(UTC)
    return client.create_silence(
        CHECKOUT, starts_at=now, ends_at=now + timedelta(hours=1), created_by="s", comment="c"
    )


def test_a_server_error_is_retried_for_reads_only(webhook_recorder: WebhookRecorder) -> None:
    client = AlertmanagerClient(webhook_recorder.url, retries=3, backoff_s=0.0)
    webhook_recorder.answer_next(*[(500, b"overloaded")] * 3)
    with pytest.raises(NotifierUnavailable) as listing:
        client.list_silences()
    assert str(listing.value) == (
        f"Alertmanager at {webhook_recorder.url} answered HTTP 500 to listing silences:"
        " overloaded (3 attempts)"
    )
    assert [r.method for r in webhook_recorder.requests] == ["GET"] * 3

    webhook_recorder.clear()
    webhook_recorder.answer_next((500, b"overloaded"))
    with pytest.raises(NotifierUnavailable) as creating:
        _future_silence(client)
    assert str(creating.value) == (
        f"Alertmanager at {webhook_recorder.url} answered HTTP 500 to creating a silence:"
        " overloaded"
    )
    assert [r.method for r in webhook_recorder.requests] == ["POST"]  # never two silences

    webhook_recorder.clear()
    webhook_recorder.answer_next(502, (200, b"[]"))
    assert client.list_silences() == []  # the second attempt got through
    assert len(webhook_recorder.requests) == 2


def _call(client: AlertmanagerClient, call: str) -> None:
    silence_id = str(uuid.uuid4())
    if call == "list":
        client.list_silences()
    elif call == "create":
        _future_silence(client)
    elif call == "get":
        client.get_silence(silence_id)
    else:
        client.expire_silence(silence_id)


@pytest.mark.parametrize(
    ("answer", "call", "message"),
    [
        ((200, b"<html>a login page</html>"), "list", "with something that is not its API v2"),
        ((200, b'[{"id": 1}]'), "list", "with something that is not its API v2"),
        ((200, b'{"silences": []}'), "list", "with something that is not its API v2"),
        ((200, b'{"silenceID": 5}'), "create", "with something that is not its API v2"),
        ((200, b""), "create", "with something that is not its API v2: 'None'"),
        ((200, b'{"id": "x", "status": {"state": "gone"}}'), "get", "not its API v2"),
        ((404, b"404 page not found"), "get", "(HTTP 404): 404 page not found"),
        (
            (401, b'{"code": 401, "message": "no"}'),
            "list",
            "refused listing silences (HTTP 401): no",
        ),
        ((403, b'"forbidden"'), "expire", "(HTTP 403): forbidden"),
    ],
)
def test_answers_that_are_not_alertmanager_are_unavailable(
    webhook_recorder: WebhookRecorder, answer: tuple[int, bytes], call: str, message: str
) -> None:
    client = AlertmanagerClient(webhook_recorder.url + "/prefix", retries=1)
    webhook_recorder.answer_next(answer)
    with pytest.raises(NotifierUnavailable) as failed:
        _call(client, call)
    assert str(failed.value).startswith(f"Alertmanager at {webhook_recorder.url}/prefix ")
    assert message in str(failed.value)
    assert webhook_recorder.requests[0].path.startswith("/prefix/api/v2/silence")


def test_a_slow_server_times_out_and_a_creation_is_not_repeated(
    webhook_recorder: WebhookRecorder,
) -> None:
    webhook_recorder.delay_s = 1.0
    client = AlertmanagerClient(webhook_recorder.url, timeout_s=0.2, retries=2, backoff_s=0.0)
    with pytest.raises(NotifierUnavailable) as reading:
        client.get_silence(str(uuid.uuid4()))
    assert str(reading.value).endswith("within 0.2 s (2 attempts)")
    webhook_recorder.clear()
    with pytest.raises(NotifierUnavailable) as creating:
        _future_silence(client)
    assert str(creating.value) == (
        f"Alertmanager at {webhook_recorder.url} did not answer creating a silence within"
        " 0.2 s: it may have done it all the same"
    )
    assert len(webhook_recorder.requests) == 1


def test_the_token_and_headers_are_sent(webhook_recorder: WebhookRecorder) -> None:
    webhook_recorder.answer_next((200, b"[]"))
    client = AlertmanagerClient(
        webhook_recorder.url, token="t0k", headers={"X-Scope-OrgID": "team-a"}
    )
    assert client.list_silences() == []
    (request,) = webhook_recorder.requests
    assert request.headers["authorization"] == "Bearer t0k"
    assert request.headers["x-scope-orgid"] == "team-a"
    assert request.headers["accept"] == "application/json"


def test_at_least_one_attempt_is_made() -> None:
    with pytest.raises(ValueError, match="expected at least one attempt, got retries=0"):
        AlertmanagerClient("http://127.0.0.1:9093", retries=0)


def test_a_filter_on_a_name_that_is_no_label_is_not_sent(
    webhook_recorder: WebhookRecorder,
) -> None:
    with pytest.raises(SpecError, match="expected a label name"):
        AlertmanagerClient(webhook_recorder.url).list_silences({"a-b": "x"})
    assert webhook_recorder.requests == []


@pytest.mark.parametrize(
    "silence",
    [
        {"matchers": ["severity=page"]},  # a matcher that is not an object
        {"comment": None},  # a field that is not text
        {"endsAt": "tomorrow"},  # a time that is not RFC 3339
    ],
)
def test_a_silence_with_a_malformed_field_is_unavailable(
    webhook_recorder: WebhookRecorder, silence: dict[str, Any]
) -> None:
    whole = {
        "id": str(uuid.uuid4()),
        "status": {"state": "active"},
        "matchers": [{"name": "a", "value": "b", "isRegex": False, "isEqual": True}],
        "startsAt": "2026-11-01T10:00:00.000Z",
        "endsAt": "2026-11-01T11:00:00.000Z",
        "updatedAt": "2026-11-01T10:00:00.000Z",
        "createdBy": "srekit",
        "comment": "c",
    }
    client = AlertmanagerClient(webhook_recorder.url)
    webhook_recorder.answer_next((200, json.dumps([whole]).encode()))
    assert client.list_silences()[0].labels == {"a": "b"}  # the whole one is read
    webhook_recorder.answer_next((200, json.dumps([{**whole, **silence}]).encode()))
    with pytest.raises(NotifierUnavailable, match="with something that is not its API v2"):
        client.list_silences()


@contextmanager
def _hanging_up() -> Iterator[tuple[str, list[int]]]:
    """A server closing every connection without a word; yields its URL and a count of them."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            accepted.append(1)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        listener.close()
        thread.join(timeout=5)


def test_a_dropped_connection_is_retried_for_reads_only() -> None:
    with _hanging_up() as (url, accepted):
        client = AlertmanagerClient(url, retries=2, backoff_s=0.0)
        with pytest.raises(NotifierUnavailable) as listing:
            client.list_silences()
        assert str(listing.value) == (
            f"Alertmanager at {url} failed while listing silences: Server disconnected"
            " without sending a response. (2 attempts)"
        )
        assert len(accepted) == 2
        with pytest.raises(NotifierUnavailable) as creating:
            _future_silence(client)
        assert str(creating.value) == (
            f"Alertmanager at {url} failed while creating a silence: Server disconnected"
            " without sending a response."
        )
        assert len(accepted) == 3  # it may have been created: not sent again


@contextmanager
def _full_backlog() -> Iterator[str]:
    """A port whose accept queue is full, so that connecting times out (nothing accepts)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    address = listener.getsockname()
    waiting = []
    for _ in range(3):
        waiting.append(socket.socket())
        waiting[-1].setblocking(False)
        waiting[-1].connect_ex(address)
    try:
        yield f"http://127.0.0.1:{address[1]}"
    finally:
        for one in waiting:
            one.close()
        listener.close()


def test_a_connection_that_times_out_is_retried_even_for_a_creation() -> None:
    with _full_backlog() as url:
        client = AlertmanagerClient(url, timeout_s=0.2, retries=2, backoff_s=0.0)
        with pytest.raises(NotifierUnavailable) as creating:
            _future_silence(client)
    assert str(creating.value) == (
        f"Alertmanager at {url} cannot be reached: the connection timed out (2 attempts)"
    )
