"""The silences an incident holds, on SQLite and PostgreSQL: listed and taken off with a
timeline entry and an audit row each, and found again by the watch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from srekit.core.incident import IncidentState, Severity, change_state
from srekit.store.database import transaction
from srekit.store.repo import (
    add_silence,
    create_incident,
    get_incident,
    incident_events,
    incident_of,
    incidents_holding_silences,
    list_audit,
    remove_silence,
    save_incident,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
S1 = "0b7f6c1e-8a7e-4d6b-9f55-1d2c3b4a5e6f"
S2 = "9a1e7d3c-2b4f-4e6a-8c1d-7f6e5d4c3b2a"


def _open(engine: Engine, title: str) -> int:
    with transaction(engine) as session:
        row = create_incident(
            session, title=title, severity=Severity.P1, opened_at=T0, actor="ana", now=T0
        )
        return row.id


def test_silences_are_listed_on_the_incident_and_taken_off_again(engine: Engine) -> None:
    first, second = _open(engine, "checkout errors"), _open(engine, "search slow")
    with transaction(engine) as session:
        assert incidents_holding_silences(session) == []
        row = get_incident(session, incident_id=first)
        add_silence(
            session, row=row, silence_id=S1, actor="ana", text="silenced", at=T0, now=T0,
            data={"matchers": {"alertname": "A"}},
        )  # fmt: skip
        add_silence(session, row=row, silence_id=S2, actor="ana", text="again", at=T0, now=T0)
        add_silence(session, row=row, silence_id=S1, actor="ana", text="twice", at=T0, now=T0)
    with transaction(engine, read_only=True) as session:
        assert get_incident(session, incident_id=first).silences == (S2, S1)
        assert [row.id for row in incidents_holding_silences(session)] == [first]
        assert incidents_holding_silences(session, incident_ids=[second]) == []
        events = incident_events(session, incident_id=first)
        silence_events = [e for e in events if e.kind == "silence"]
        assert [(e.text, e.actor, e.data) for e in silence_events] == [
            ("silenced", "ana", {"silence": S1, "matchers": {"alertname": "A"}}),
            ("again", "ana", {"silence": S2}),
            ("twice", "ana", {"silence": S1}),
        ]

    later = T0 + timedelta(hours=1)
    with transaction(engine) as session:
        row = get_incident(session, incident_id=first)
        remove_silence(session, row=row, silence_id=S2, actor="srekit", text="expired", at=later)
        remove_silence(session, row=row, silence_id="not-held", actor="x", text="no", at=later)
    with transaction(engine) as session:
        row = get_incident(session, incident_id=first)
        assert row.silences == (S1,)
        remove_silence(session, row=row, silence_id=S1, actor="srekit", text="gone", at=later)
    with transaction(engine, read_only=True) as session:
        row = get_incident(session, incident_id=first)
        assert (row.silences, row.silences_json) == ((), "[]")
        assert incidents_holding_silences(session) == []
        texts = [e.text for e in incident_events(session, incident_id=first) if e.kind == "silence"]
        assert texts == ["silenced", "again", "twice", "expired", "gone"]
        audit = [
            (entry.action, entry.before, entry.after)
            for entry in reversed(list_audit(session, entity_kind="incident"))
            if entry.action in ("incident.silence", "incident.unsilence")
        ]
    assert audit == [
        ("incident.silence", {"silences": []}, {"silences": [S1]}),
        ("incident.silence", {"silences": [S1]}, {"silences": [S1, S2]}),
        ("incident.silence", {"silences": [S1, S2]}, {"silences": [S2, S1]}),
        ("incident.unsilence", {"silences": [S2, S1]}, {"silences": [S1]}),
        ("incident.unsilence", {"silences": [S1]}, {"silences": []}),
    ]


def test_resolved_incidents_holding_silences_are_found_too(engine: Engine) -> None:
    number = _open(engine, "checkout errors")
    with transaction(engine) as session:
        row = get_incident(session, incident_id=number)
        add_silence(session, row=row, silence_id=S1, actor="ana", text="s", at=T0, now=T0)
        resolved = change_state(incident_of(row), to=IncidentState.RESOLVED, at=T0)
        save_incident(session, row=row, incident=resolved, actor="ana", action="resolve", text="r")
    with transaction(engine, read_only=True) as session:
        (held,) = incidents_holding_silences(session, incident_ids=[number, number + 1])
        assert (held.id, held.state, held.silences) == (number, "resolved", (S1,))


def test_the_noise_mark_is_stored_on_closing_and_cleared_on_reopening(engine: Engine) -> None:
    number = _open(engine, "probe flapped")
    steps = [
        (IncidentState.RESOLVED, False, "resolve"),
        (IncidentState.CLOSED, True, "close"),
        (IncidentState.TRIGGERED, False, "reopen"),
    ]
    for minutes, (to, noise, action) in enumerate(steps, start=1):
        with transaction(engine) as session:
            row = get_incident(session, incident_id=number)
            at = T0 + timedelta(minutes=minutes)
            changed = change_state(incident_of(row), to=to, at=at, noise=noise)
            data = {"noise_reason": "probe flapped"} if noise else None
            save_incident(
                session, row=row, incident=changed, actor="ana", action=action, text=action,
                at=at, data=data, now=at,
            )  # fmt: skip
        with transaction(engine, read_only=True) as session:
            row = get_incident(session, incident_id=number)
            assert (row.noise, incident_of(row).noise) == (noise, noise)
    with transaction(engine, read_only=True) as session:
        entries = [e.data for e in incident_events(session, incident_id=number)]
        assert entries[2] == {
            "state": "closed", "severity": "P1", "noise": True, "noise_reason": "probe flapped",
        }  # fmt: skip
        assert entries[3] == {"state": "triggered", "severity": "P1"}
        audit = [a for a in list_audit(session, limit=10) if a.action == "incident.close"]
        assert audit[0].after["noise"] is True
        assert audit[0].before["noise"] is False
