"""What Alertmanager sends a webhook receiver, from a real Alertmanager (0.25, Debian's).

tests/data/alertmanager_sequence.json holds six webhook bodies captured from it by
`python -m tests.alertmanager_capture` (tests/alertmanager_capture.py says which alerts, in
which steps); tests that replay real payloads read it with `load_sequence()`. Here: the
committed bodies have Alertmanager's shape, a fresh capture still equals them, and the
delivery facts a receiver relies on hold (the bearer token, read again from its file on every
request; the same bytes again on a retry; a 4xx answer sent again at the next group
interval).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from srekit.core.instant import parse_instant
from tests.alertmanager_capture import EXTERNAL_URL, capture_sequence, load_sequence
from tests.alertmanager_fixture import (
    ALERTMANAGER_TOKEN,
    WEBHOOK_PATH,
    AlertmanagerServer,
    WebhookRecorder,
    postable_alert,
)

FIRING_ENDS_AT = "0001-01-01T00:00:00Z"  # Go's zero time: Alertmanager's "no end yet"
_BODY_KEYS = {
    "receiver",
    "status",
    "alerts",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
    "externalURL",
    "version",
    "groupKey",
    "truncatedAlerts",
}
_ALERT_KEYS = {
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "generatorURL",
    "fingerprint",
}


def fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus's label-set fingerprint (FNV-1a 64 over the sorted names and values, each
    followed by a 0xff byte), which Alertmanager sends as 16 hex digits."""
    digest = 14695981039346656037
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode() + b"\xff":
                digest = ((digest ^ byte) * 1099511628211) % 2**64
    return f"{digest:016x}"


def check_shape(body: Mapping[str, Any], *, route: str = "{}") -> None:
    """One webhook body as Alertmanager's webhook notifier writes it (payload version 4), from
    a route whose key (its matchers from the root's down) is `route`."""
    assert set(body) == _BODY_KEYS
    assert body["version"] == "4"
    assert body["truncatedAlerts"] == 0  # max_alerts: 0 sends every alert
    alerts = body["alerts"]
    assert alerts
    for alert in alerts:
        assert set(alert) == _ALERT_KEYS
        assert alert["status"] in ("firing", "resolved")
        assert alert["fingerprint"] == fingerprint(alert["labels"])
        starts_at = parse_instant(alert["startsAt"])
        if alert["status"] == "firing":
            assert alert["endsAt"] == FIRING_ENDS_AT
        else:
            assert parse_instant(alert["endsAt"]) > starts_at
    resolved = all(alert["status"] == "resolved" for alert in alerts)
    assert body["status"] == ("resolved" if resolved else "firing")
    group_labels = body["groupLabels"]
    labels = ", ".join(f'{name}="{value}"' for name, value in sorted(group_labels.items()))
    assert body["groupKey"] == f"{route}:{{{labels}}}"
    common = dict(alerts[0]["labels"])
    for alert in alerts:
        assert group_labels.items() <= alert["labels"].items()
        common = {k: v for k, v in common.items() if alert["labels"].get(k) == v}
    assert body["commonLabels"] == common


SREKIT_ROUTE = '{}/{severity=~"page|ticket"}'  # the srekit route of the documented config


def test_the_committed_sequence_has_alertmanagers_shape() -> None:
    bodies = load_sequence()
    for body in bodies:
        check_shape(body, route=SREKIT_ROUTE)
        assert body["externalURL"] == EXTERNAL_URL
        assert body["receiver"] == "srekit"
    checkout = (
        SREKIT_ROUTE
        + ':{alertname="CheckoutAvailabilityErrorBudgetBurn", srekit_service="checkout"}'
    )
    payments = (
        SREKIT_ROUTE + ':{alertname="PaymentsLatencyErrorBudgetBurn", srekit_service="payments"}'
    )
    story = [
        (
            body["groupKey"],
            body["status"],
            [(a["labels"]["severity"], a["status"]) for a in body["alerts"]],
        )
        for body in bodies
    ]
    assert story == [
        (checkout, "firing", [("page", "firing")]),
        (payments, "firing", [("page", "firing")]),
        (checkout, "firing", [("page", "firing"), ("ticket", "firing")]),
        (checkout, "firing", [("page", "firing"), ("ticket", "resolved")]),
        (checkout, "resolved", [("page", "resolved")]),
        (payments, "resolved", [("page", "resolved")]),
    ]
    ends = [a["endsAt"] for body in bodies for a in body["alerts"] if a["status"] == "resolved"]
    assert ends == ["2026-11-01T11:00:00Z", "2026-11-01T11:30:00Z", "2026-11-01T11:15:00Z"]


@pytest.mark.integration
def test_a_fresh_capture_equals_the_committed_one(tmp_path: Path) -> None:
    assert capture_sequence(tmp_path) == load_sequence()


def _one_alert(service: str = "search") -> list[dict[str, Any]]:
    labels = {"alertname": "SearchLatencyErrorBudgetBurn", "srekit_service": service}
    # started over a group_wait ago: Alertmanager sends it at once
    return [postable_alert(labels, starts_at=datetime.now(UTC) - timedelta(minutes=1))]


@pytest.mark.integration
def test_a_5xx_is_retried_at_once_with_the_same_bytes_and_the_token(
    alertmanager: AlertmanagerServer, webhook_recorder: WebhookRecorder
) -> None:
    webhook_recorder.answer_next(500, 503)
    alertmanager.post_alerts(_one_alert())
    requests = webhook_recorder.wait_for(3)
    assert [r.answered for r in requests] == [500, 503, 200]
    assert {r.body for r in requests} == {requests[0].body}
    assert requests[2].received_s - requests[0].received_s < 2.0  # before the group interval
    for request in requests:
        assert (request.method, request.path) == ("POST", WEBHOOK_PATH)
        assert request.headers["authorization"] == f"Bearer {ALERTMANAGER_TOKEN}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("Alertmanager/")
    check_shape(requests[0].json())


@pytest.mark.integration
def test_a_4xx_is_not_retried_but_sent_again_at_the_next_group_interval(
    alertmanager: AlertmanagerServer, webhook_recorder: WebhookRecorder
) -> None:
    webhook_recorder.answer_next(400)
    alertmanager.post_alerts(_one_alert())
    first, second = webhook_recorder.wait_for(2)
    assert (first.answered, second.answered) == (400, 200)
    assert first.body == second.body
    assert second.received_s - first.received_s >= 1.5  # group_interval is 2 s


@pytest.mark.integration
def test_a_new_token_in_the_credentials_file_is_sent_without_a_reload(
    alertmanager: AlertmanagerServer, webhook_recorder: WebhookRecorder
) -> None:
    assert alertmanager.credentials_file is not None
    alertmanager.post_alerts(_one_alert("search"))
    webhook_recorder.wait_for(1)
    alertmanager.credentials_file.write_text("rotated-token\n", encoding="utf-8")
    alertmanager.post_alerts(_one_alert("catalog"))
    first, second = webhook_recorder.wait_for(2)
    assert first.headers["authorization"] == f"Bearer {ALERTMANAGER_TOKEN}"
    assert second.headers["authorization"] == "Bearer rotated-token"
    assert second.json()["groupLabels"]["srekit_service"] == "catalog"
