"""Intake rules: forward-only alert states, titles, late alerts joining their incident."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.incident import Incident, IncidentState, Severity
from srekit.core.intake import (
    AlertChange,
    AlertStatus,
    ReceivedAlert,
    alert_change,
    incident_title,
    joins_incident,
    state_before_resolution,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
F, R = AlertStatus.FIRING, AlertStatus.RESOLVED


@pytest.mark.parametrize(
    ("stored", "received", "expected"),
    [
        (None, F, AlertChange.NEW),
        (None, R, AlertChange.NEW),
        (F, F, AlertChange.UNCHANGED),
        (F, R, AlertChange.RESOLVED),
        (R, R, AlertChange.UNCHANGED),
        (R, F, AlertChange.UNCHANGED),  # a late retry never un-resolves an alert
    ],
)
def test_alert_states_only_move_forward(
    stored: AlertStatus | None, received: AlertStatus, expected: AlertChange
) -> None:
    assert alert_change(stored, received) is expected


def test_titles_prefer_the_summary() -> None:
    alert = ReceivedAlert("ab12", F, T0, labels={"alertname": "HighErrors"})
    assert incident_title(alert, service="checkout") == "HighErrors on checkout"
    assert incident_title(alert, service=None) == "HighErrors"
    assert incident_title(ReceivedAlert("x", F, T0), service=None) == "alert"
    summarised = replace(alert, annotations={"summary": "  checkout is failing  "})
    assert incident_title(summarised, service="checkout") == "checkout is failing"
    assert (
        len(incident_title(replace(alert, annotations={"summary": "x" * 500}), service=None)) == 400
    )


def _incident(**changes: object) -> Incident:
    values: dict[str, object] = {
        "id": 1,
        "title": "t",
        "severity": Severity.P1,
        "state": IncidentState.TRIGGERED,
        "opened_at": T0,
    }
    values.update(changes)
    return Incident(**values)  # type: ignore[arg-type]


def test_late_alerts_join_the_incident_they_started_in() -> None:
    resolved = _incident(state=IncidentState.RESOLVED, resolved_at=T0 + timedelta(minutes=30))
    assert joins_incident(_incident(), T0 + timedelta(days=3))
    assert joins_incident(resolved, T0 + timedelta(minutes=30))
    assert not joins_incident(resolved, T0 + timedelta(minutes=31))
    closed_without_resolution = _incident(state=IncidentState.CLOSED)
    assert not joins_incident(closed_without_resolution, T0)


def test_state_before_resolution_reads_the_instants() -> None:
    at = T0 + timedelta(minutes=5)
    assert state_before_resolution(_incident()) is IncidentState.TRIGGERED
    assert state_before_resolution(_incident(acknowledged_at=at)) is IncidentState.ACKNOWLEDGED
    mitigated = _incident(acknowledged_at=at, mitigated_at=at)
    assert state_before_resolution(mitigated) is IncidentState.MITIGATED
