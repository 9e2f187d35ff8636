"""Stored escalation policies, their versions, and incidents' escalation state, on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.core.escalation import (
    EscalationPolicy,
    EscalationState,
    EscalationStatus,
    EscalationStep,
    NotifyTarget,
    stopped,
)
from srekit.core.incident import IncidentState, Severity, change_state
from srekit.errors import Conflict, NotFound
from srekit.store import repo
from srekit.store.database import transaction

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
PAYMENTS = EscalationPolicy(
    name="payments",
    services=("checkout",),
    steps=(
        EscalationStep(NotifyTarget(rotation="payments", layer="primary")),
        EscalationStep(NotifyTarget(person="grace"), after_s=600),
    ),
)


def test_apply_creates_then_versions_changes_and_keeps_every_version(engine: Engine) -> None:
    with transaction(engine) as session:
        assert repo.find_escalation_policy(session, name="payments") is None
        with pytest.raises(NotFound, match="no escalation policy 'payments'"):
            repo.get_escalation_policy(session, name="payments")
        created = repo.apply_escalation_policy(session, policy=PAYMENTS, actor="alice", now=AT)
        assert (created.created, created.row.version, created.row.created_at) == (True, 1, AT)
    with transaction(engine) as session:
        again = repo.apply_escalation_policy(session, policy=PAYMENTS, actor="alice")
        assert (again.changed, again.diff, again.row.version) == (False, (), 1)
    changed = replace(PAYMENTS, repeat=2)
    with transaction(engine) as session:
        updated = repo.apply_escalation_policy(session, policy=changed, actor="bob")
        assert (updated.created, updated.row.version, updated.diff) == (
            False,
            2,
            ("repeat: 0 → 2",),
        )
    with transaction(engine) as session:
        row = repo.get_escalation_policy(session, name="payments")
        assert repo.escalation_policy_of(row) == changed
        assert repo.escalation_policy_version(session, name="payments", version=1) == PAYMENTS
        assert repo.escalation_policy_version(session, name="payments", version=2) == changed
        with pytest.raises(NotFound, match="no version 3 of escalation policy 'payments'"):
            repo.escalation_policy_version(session, name="payments", version=3)
        audited = repo.list_audit(session, entity_kind="escalation_policy")
        assert [(a.action, a.actor) for a in audited] == [
            ("escalation_policy.update", "bob"),
            ("escalation_policy.create", "alice"),
        ]
        assert audited[0].before["spec"]["repeat"] == 0


def test_policies_list_by_name_and_a_deleted_one_keeps_its_versions(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_escalation_policy(session, policy=PAYMENTS, actor="a")
        repo.apply_escalation_policy(session, policy=replace(PAYMENTS, name="a-first"), actor="a")
        assert [r.name for r in repo.list_escalation_policies(session)] == ["a-first", "payments"]
    with transaction(engine) as session:
        repo.delete_escalation_policy(session, name="payments", actor="carol")
    with transaction(engine) as session:
        assert [r.name for r in repo.list_escalation_policies(session)] == ["a-first"]
        # an escalation under way still reads the version it started with
        assert repo.escalation_policy_version(session, name="payments", version=1) == PAYMENTS
        with pytest.raises(NotFound):
            repo.delete_escalation_policy(session, name="payments", actor="carol")
    with transaction(engine) as session:
        # applied again, its numbering goes on: version 1 is taken by the deleted one
        again = repo.apply_escalation_policy(
            session, policy=replace(PAYMENTS, repeat=1), actor="dave"
        )
        assert (again.created, again.row.version) == (True, 2)
        actions = [a.action for a in repo.list_audit(session, entity_kind="escalation_policy")]
        assert actions[:2] == ["escalation_policy.create", "escalation_policy.delete"]


def _incident(engine: Engine, *, minutes: int = 0, title: str = "checkout down") -> int:
    with transaction(engine) as session:
        row = repo.create_incident(
            session,
            title=title,
            severity=Severity.P1,
            opened_at=AT + timedelta(minutes=minutes),
            actor="alertmanager",
            services=["checkout"],
        )
        return row.id


def test_escalations_start_advance_and_come_due(engine: Engine) -> None:
    first = _incident(engine)
    second = _incident(engine, minutes=1, title="second")
    with transaction(engine) as session:
        # both unescalated, oldest first
        checkout = repo.unescalated_incidents(session, services={"checkout", "search"})
        assert [r.id for r in checkout] == [first, second]
        assert checkout[0].service_names == ("checkout",)
        # only incidents on the services some policy names
        assert repo.unescalated_incidents(session, services={"search"}) == []
        assert repo.unescalated_incidents(session, services=set()) == []
        row = repo.start_incident_escalation(
            session,
            incident_id=first,
            policy_name="payments",
            policy_version=1,
            state=EscalationState(next_step=0, next_at=AT),
            now=AT,
        )
        assert (row.state, row.started_at) == ("active", AT)
    with transaction(engine) as session:
        assert [r.id for r in repo.unescalated_incidents(session, services={"checkout"})] == [
            second
        ]
        # due at AT: due at AT and after, not before
        assert repo.due_escalations(session, now=AT - timedelta(seconds=1)) == []
        (due,) = repo.due_escalations(session, now=AT)
        assert due.incident_id == first
        later = EscalationState(next_step=1, next_at=AT + timedelta(minutes=10))
        repo.save_escalation(session, row=due, state=later, now=AT)
    with transaction(engine) as session:
        found = repo.find_escalation(session, incident_id=first)
        assert found is not None
        assert repo.escalation_state_of(found) == later
        assert (found.policy_name, found.policy_version) == ("payments", 1)
        assert repo.due_escalations(session, now=AT + timedelta(minutes=9)) == []
        assert [
            r.incident_id for r in repo.due_escalations(session, now=AT + timedelta(minutes=10))
        ] == [first]
    with transaction(engine) as session, pytest.raises(Conflict, match="escalates already"):
        repo.start_incident_escalation(  # one escalation per incident
            session,
            incident_id=first,
            policy_name="payments",
            policy_version=1,
            state=later,
            now=AT,
        )


def test_acknowledged_or_closed_incidents_are_answered_and_never_start(engine: Engine) -> None:
    acknowledged = _incident(engine)
    resolved = _incident(engine, minutes=1, title="resolved")
    waiting = _incident(engine, minutes=2, title="waiting")
    never = _incident(engine, minutes=3, title="acknowledged before any round")
    with transaction(engine) as session:
        for incident_id in (acknowledged, resolved, waiting):
            repo.start_incident_escalation(
                session,
                incident_id=incident_id,
                policy_name="payments",
                policy_version=1,
                state=EscalationState(next_step=1, next_at=AT + timedelta(hours=1)),
                now=AT,
            )
        for incident_id, to in (
            (acknowledged, IncidentState.ACKNOWLEDGED),
            (resolved, IncidentState.RESOLVED),
            (never, IncidentState.ACKNOWLEDGED),
        ):
            row = repo.get_incident(session, incident_id=incident_id)
            changed = change_state(repo.incident_of(row), to=to, at=AT + timedelta(minutes=5))
            repo.save_incident(
                session, row=row, incident=changed, actor="alice", action=to.value, text="x"
            )
    with transaction(engine) as session:
        assert repo.unescalated_incidents(session, services={"checkout"}) == []
        # not due for an hour, yet answered now
        answered = repo.answered_escalations(session)
        assert [r.incident_id for r in answered] == [acknowledged, resolved]
        repo.save_escalation(
            session,
            row=answered[0],
            state=stopped(repo.escalation_state_of(answered[0]), reason="acknowledged"),
            now=AT,
        )
    with transaction(engine) as session:
        assert [r.incident_id for r in repo.answered_escalations(session)] == [resolved]
        halted = repo.find_escalation(session, incident_id=acknowledged)
        assert halted is not None
        assert (halted.state, halted.reason, halted.next_at) == ("stopped", "acknowledged", None)
        assert [r.incident_id for r in repo.list_escalations(session)] == [
            waiting,
            resolved,
            acknowledged,
        ]
        stopped_rows = repo.list_escalations(session, status=EscalationStatus.STOPPED)
        assert [r.incident_id for r in stopped_rows] == [acknowledged]
        assert len(repo.list_escalations(session, limit=1)) == 1
