"""The stand-ins core offers for what lives outside it."""

from __future__ import annotations

from srekit.core.ports import IncidentRepository, NoIncidents


def test_without_an_incident_store_no_incident_is_ever_open() -> None:
    incidents: IncidentRepository = NoIncidents()
    assert tuple(incidents.open_severe_incidents("checkout")) == ()
