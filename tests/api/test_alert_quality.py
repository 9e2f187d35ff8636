"""`GET /api/v1/alerts/report` through the API: alerts in through the webhook, an incident
closed as noise, the report's figures, and hostile query values refused with 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from srekit.contracts import AlertQualityOut
from tests.api.conftest import Api

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)
ZERO = "0001-01-01T00:00:00Z"
PERIOD = "from=2026-11-20T00:00:00Z&to=2026-11-27T00:00:00Z"


def _instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _send(api: Api, name: str, fingerprint: str, starts: datetime, ends: datetime | None) -> Any:
    alert = {
        "status": "firing" if ends is None else "resolved",
        "labels": {"alertname": name, "severity": "page", "srekit_service": "checkout"},
        "annotations": {},
        "startsAt": _instant(starts),
        "endsAt": ZERO if ends is None else _instant(ends),
        "generatorURL": "http://prometheus.local/graph",
        "fingerprint": fingerprint,
    }
    body = {
        "version": "4",
        "groupKey": f"{{}}:{{alertname={name!r}}}",
        "truncatedAlerts": 0,
        "status": alert["status"],
        "receiver": "srekit",
        "groupLabels": {"alertname": name},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local",
        "alerts": [alert],
    }
    response = api.post("/api/v1/alertmanager", role="ingest", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_report_through_the_api(api: Api) -> None:
    # Flappy: fires at 10:00 for 2 minutes, again at 10:30 for 3 (a refire, 28 min after the
    # first ended); its second incident is closed as noise. Burn: 40 minutes, acknowledged.
    first = _send(api, "Flappy", "f1", T0, None)["incidents_opened"][0]
    _send(api, "Flappy", "f1", T0, T0 + 2 * M)
    second = _send(api, "Flappy", "f1", T0 + 30 * M, None)["incidents_opened"][0]
    _send(api, "Flappy", "f1", T0 + 30 * M, T0 + 33 * M)
    burn = _send(api, "Burn", "b1", T0 + 60 * M, None)["incidents_opened"][0]
    assert api.post(f"/api/v1/incidents/{burn}/acknowledge", role="editor").status_code == 200
    _send(api, "Burn", "b1", T0 + 60 * M, T0 + 100 * M)
    closed = api.post(f"/api/v1/incidents/{second}/close", role="editor", json={"noise": True})
    assert closed.status_code == 200, closed.text
    assert first != second

    response = api.get(f"/api/v1/alerts/report?{PERIOD}", role="viewer")
    assert response.status_code == 200, response.text
    document = response.json()
    assert AlertQualityOut.model_validate(document).model_dump() == document
    assert (document["shifts"], document["auto_resolve_s"], document["shift_s"]) == (
        1.0,  # 7 days / 7 days
        300.0,
        604800.0,
    )
    flappy, burned = document["rules"]
    assert flappy["rule"] == "Flappy"
    # both fires false positives: the first over in 2 minutes, the second closed as noise
    assert (flappy["fires"], flappy["false_positives"], flappy["noise"]) == (2, 2, 1)
    assert (flappy["false_positive_rate"], flappy["refire_share"]) == (1.0, 0.5)
    assert flappy["missed_targets"] == ["actionable", "false_positives"]
    assert (burned["rule"], burned["fires"], burned["actionable_rate"]) == ("Burn", 1, 1.0)
    assert burned["mttr_s"] == 40 * 60  # opened 11:00, resolved by its alert at 11:40
    assert burned["tta_median_s"] is not None  # acknowledged when the test ran: now − 11:00
    assert document["overall"]["fires"] == 3

    other = api.get(f"/api/v1/alerts/report?{PERIOD}&service=search", role="viewer").json()
    assert (other["service"], other["rules"], other["overall"]) == ("search", [], None)
    window = api.get(f"/api/v1/alerts/report?{PERIOD}&auto_resolve_window=1m", role="viewer")
    assert window.json()["rules"][0]["auto_resolved"] == 0  # 2 minutes > 1
    daily = api.get(f"/api/v1/alerts/report?{PERIOD}&shift=1d", role="viewer").json()
    assert daily["shifts"] == 7.0
    assert api.get(f"/api/v1/alerts/report?{PERIOD}", role="ingest").status_code == 403
    assert api.get(f"/api/v1/alerts/report?{PERIOD}", role=None).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "from=NaN",
        "to=1e309",
        "from=2026-11-27T00:00:00Z&to=2026-11-20T00:00:00Z",  # ends before it starts
        "from=2026-11-20T00:00:00Z&to=2026-11-20T00:00:00Z",  # empty
        "from=2026-11-20T00:00:00",  # no time zone
        "service=check%00out",
        "service=check%1bout",
        "service=" + "x" * 201,
        "auto_resolve_window=NaN",
        "auto_resolve_window=1e309",
        "auto_resolve_window=-5m",
        "auto_resolve_window=0s",
        "shift=inf",
        "shift=7d%0a",
        "shift=" + "9" * 40 + "d",
    ],
)
def test_hostile_query_values_are_422(api: Api, query: str) -> None:
    response = api.get(f"/api/v1/alerts/report?{query}", role="viewer")
    assert response.status_code == 422, (query, response.text)
    assert "detail" in response.json()
