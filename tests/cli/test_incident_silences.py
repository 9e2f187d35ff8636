"""`srekit incident ack --silence`, `resolve` and `close` with the Alertmanager of
SREKIT_ALERTMANAGER_URL (a real one), on SQLite and PostgreSQL: exit 2 when nothing could be
asked, exit 3 when the change is stored but Alertmanager failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from srekit.alertmanager import AlertmanagerClient
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.flows.intake import Notification, receive_notification
from srekit.store.database import create_store_engine, upgrade
from tests.alertmanager_fixture import AlertmanagerServer
from tests.cli.conftest import Cli
from tests.served import free_port

pytestmark = pytest.mark.integration

LABELS = {
    "alertname": "CatalogLatencyErrorBudgetBurn",
    "severity": "page",
    "srekit_service": "catalog",
    "srekit_slo": "latency",
}


def _incident_from_alerts(cli: Cli) -> str:
    """An incident opened by an alert (as Alertmanager's webhook opens them), its number."""
    engine = create_store_engine(cli.env["SREKIT_DATABASE_URL"])
    try:
        upgrade(engine)
        alert = ReceivedAlert(
            "c0ffee",
            AlertStatus.FIRING,
            datetime.now(UTC) - timedelta(minutes=3),
            labels={**LABELS, "pod": "catalog-1"},
        )
        result = receive_notification(
            engine,
            Notification("srekit", "firing", "g", (alert,), b"one"),
            now=datetime.now(UTC),
        )
    finally:
        engine.dispose()
    (number,) = result.incidents_opened or []
    return str(number)


def test_ack_silence_then_resolve_expires_it(cli: Cli, alertmanager: AlertmanagerServer) -> None:
    number = _incident_from_alerts(cli)
    cli.env["SREKIT_ALERTMANAGER_URL"] = alertmanager.url
    acked = cli.json("incident", "ack", number, "--silence")
    assert isinstance(acked, dict)
    silence_id = acked["silence_created"]
    assert (acked["state"], acked["silences"]) == ("acknowledged", [silence_id])
    with AlertmanagerClient(alertmanager.url) as client:
        silence = client.get_silence(silence_id)
        # one alert: every label of it
        assert silence.labels == {**LABELS, "pod": "catalog-1"}
        assert (silence.state, silence.created_by) == ("active", "ci")

        code, out, err = cli("incident", "resolve", number)
        assert (code, err) == (0, "")
        assert f"expired silence {silence_id} in Alertmanager" in out
        assert client.get_silence(silence_id).state == "expired"
    shown = cli.json("incident", "show", number)
    assert isinstance(shown, dict)
    texts = [entry["text"] for entry in shown["timeline"] if entry["kind"] == "silence"]
    assert texts[-1] == f"silence {silence_id} expired in Alertmanager"
    assert shown["silences"] == []


def test_without_alertmanager_asking_for_a_silence_exits_2(cli: Cli) -> None:
    number = _incident_from_alerts(cli)
    code, _, err = cli("incident", "ack", number, "--silence")
    assert code == 2
    assert "no Alertmanager configured: set SREKIT_ALERTMANAGER_URL" in err
    shown = cli.json("incident", "show", number)
    assert shown["state"] == "triggered"
    cli.env["SREKIT_ALERTMANAGER_URL"] = "alertmanager:9093"
    code, _, err = cli("incident", "ack", number, "--silence")
    assert code == 2
    assert "SREKIT_ALERTMANAGER_URL: expected an http:// or https:// URL" in err


def test_alertmanager_down_acknowledges_and_exits_3(cli: Cli) -> None:
    number = _incident_from_alerts(cli)
    down = f"http://127.0.0.1:{free_port()}"
    cli.env["SREKIT_ALERTMANAGER_URL"] = down
    code, out, err = cli("incident", "ack", number, "--silence", "--format", "json")
    assert code == 3
    document = json.loads(out)
    assert (document["state"], document["silence_created"]) == ("acknowledged", None)
    assert f"Alertmanager at {down} cannot be reached" in document["silence_failures"][0]
    assert f"incident {number} is acknowledged, but its alerts are not silenced" in err
    code, _, err = cli("incident", "ack", number)
    assert code == 2
    assert "acknowledged already" in err
