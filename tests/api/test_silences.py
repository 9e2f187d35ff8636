"""Silences through the API with a real Alertmanager: `{"silence": true}` on acknowledge makes
one, resolving (by hand or by the alerts' webhook) expires it, and what cannot be silenced is
refused before anything changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from srekit.alertmanager import AlertmanagerClient
from srekit.api.fastpath import HotPaths
from tests.alertmanager_fixture import AlertmanagerServer
from tests.api.conftest import Api, FakeEvaluator, TestClient, make_app, make_tokens
from tests.served import free_port

pytestmark = pytest.mark.integration

LABELS = {
    "alertname": "CheckoutAvailabilityErrorBudgetBurn",
    "severity": "page",
    "srekit_service": "checkout",
    "srekit_slo": "availability",
}


def _api(engine: Engine, tmp_path: Path, **settings: object) -> Iterator[Api]:
    evaluator = FakeEvaluator()
    tokens = make_tokens(engine)
    with TestClient(make_app(engine, evaluator, tmp_path, **settings)) as client:
        yield Api(client, tokens, evaluator)


@pytest.fixture
def silencing_api(
    sqlite_engine: Engine, tmp_path: Path, alertmanager: AlertmanagerServer
) -> Iterator[Api]:
    """The API with SREKIT_ALERTMANAGER_URL pointing at a real Alertmanager."""
    yield from _api(sqlite_engine, tmp_path, alertmanager_url=alertmanager.url)


def _alert(fingerprint: str, starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    return {
        "status": "firing" if ends is None else "resolved",
        "labels": {**LABELS, "instance": fingerprint},
        "annotations": {},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z" if ends is None else ends.isoformat(),
        "generatorURL": "",
        "fingerprint": fingerprint,
    }


def _deliver(api: Api, *alerts: dict[str, Any]) -> dict[str, Any]:
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="CheckoutAvailabilityErrorBudgetBurn"}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "srekit",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local",
        "alerts": list(alerts),
    }
    response = api.post("/api/v1/alertmanager", role="ingest", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


STARTS = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)


def _open(api: Api) -> int:
    opened = _deliver(api, _alert("f1", STARTS), _alert("f2", STARTS))
    (number,) = opened["incidents_opened"]
    assert isinstance(number, int)
    return number


def test_an_acknowledgement_silences_and_resolving_expires(
    silencing_api: Api, alertmanager: AlertmanagerServer
) -> None:
    number = _open(silencing_api)
    acked = silencing_api.post(
        f"/api/v1/incidents/{number}/acknowledge",
        role="editor",
        json={"silence": True, "note": "on it"},
    )
    assert acked.status_code == 200, acked.text
    document = acked.json()
    silence_id = document["silence_created"]
    assert document["state"] == "acknowledged"
    assert (document["silences"], document["silence_failures"]) == ([silence_id], [])
    assert document["timeline"][-1]["kind"] == "silence"
    with AlertmanagerClient(alertmanager.url) as client:
        silence = client.get_silence(silence_id)
        assert (silence.state, silence.labels) == ("active", LABELS)  # not `instance`
        assert silence.created_by == "editor-bot"
        assert silence.comment.startswith(f"srekit incident #{number}: ")
        assert timedelta(hours=23) < silence.ends_at - silence.starts_at <= timedelta(hours=24)

        resolved = silencing_api.post(f"/api/v1/incidents/{number}/resolve", role="editor")
        assert resolved.status_code == 200, resolved.text
        answer = resolved.json()
        assert answer["silences_expired"] == [silence_id]
        assert (answer["silences"], answer["silence_created"]) == ([], None)
        assert client.get_silence(silence_id).state == "expired"


@pytest.mark.parametrize("road", ["short road", "route"])
def test_the_alerts_resolving_the_incident_expire_its_silence(
    silencing_api: Api,
    alertmanager: AlertmanagerServer,
    road: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if road == "route":  # the webhook's short road steps aside: FastAPI's route answers

        async def step_aside(self: HotPaths, token: str, role: object) -> bool:
            return False

        monkeypatch.setattr(HotPaths, "_allowed", step_aside)
    number = _open(silencing_api)
    acked = silencing_api.post(
        f"/api/v1/incidents/{number}/acknowledge", role="editor", json={"silence": True}
    ).json()
    ended = STARTS + timedelta(minutes=5)
    result = _deliver(silencing_api, _alert("f1", STARTS, ended), _alert("f2", STARTS, ended))
    assert result["incidents_resolved"] == [number]
    # after the answer, in the background (the test client waits for it)
    shown = silencing_api.get(f"/api/v1/incidents/{number}", role="viewer").json()
    assert (shown["state"], shown["silences"]) == ("resolved", [])
    assert shown["timeline"][-1]["actor"] == "srekit"
    with AlertmanagerClient(alertmanager.url) as client:
        assert client.get_silence(acked["silence_created"]).state == "expired"


def test_without_alertmanager_a_silence_is_refused_and_nothing_changes(
    lite_api: Api,
) -> None:
    number = _open(lite_api)
    refused = lite_api.post(
        f"/api/v1/incidents/{number}/acknowledge", role="editor", json={"silence": True}
    )
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("no Alertmanager configured")
    shown = lite_api.get(f"/api/v1/incidents/{number}", role="viewer").json()
    assert shown["state"] == "triggered"
    plain = lite_api.post(f"/api/v1/incidents/{number}/acknowledge", role="editor")
    assert plain.status_code == 200
    assert (plain.json()["silence_created"], plain.json()["silence_failures"]) == (None, [])


def test_alertmanager_down_still_acknowledges_and_says_so(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    for api in _api(sqlite_engine, tmp_path, alertmanager_url=down):
        number = _open(api)
        acked = api.post(
            f"/api/v1/incidents/{number}/acknowledge", role="editor", json={"silence": True}
        )
        assert acked.status_code == 200, acked.text
        document = acked.json()
        assert (document["state"], document["silences"]) == ("acknowledged", [])
        (failure,) = document["silence_failures"]
        assert f"Alertmanager at {down} cannot be reached" in failure


@pytest.mark.parametrize(
    ("verb", "body"),
    [
        ("acknowledge", {"silence": "yes"}),
        ("acknowledge", {"silence": 1}),
        ("acknowledge", {"silence": True, "silent": True}),
        ("resolve", {"silence": True}),
    ],
)
def test_bad_silence_requests_are_422(lite_api: Api, verb: str, body: dict[str, Any]) -> None:
    number = _open(lite_api)
    response = lite_api.post(f"/api/v1/incidents/{number}/{verb}", role="editor", json=body)
    assert response.status_code == 422, response.text
    shown = lite_api.get(f"/api/v1/incidents/{number}", role="viewer").json()
    assert shown["state"] == "triggered"


def test_only_editors_silence(silencing_api: Api) -> None:
    number = _open(silencing_api)
    for role in ("viewer", "ingest", "deploy"):
        response = silencing_api.post(
            f"/api/v1/incidents/{number}/acknowledge", role=role, json={"silence": True}
        )
        assert response.status_code == 403, role
