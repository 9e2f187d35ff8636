"""Post-mortems in the store, on SQLite and PostgreSQL: one per incident, its sections read back
as they were written, every change audited, changes of state on the incident's timeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.core.incident import Severity
from srekit.core.postmortem import (
    ActionItem,
    Impact,
    Postmortem,
    PostmortemSections,
    PostmortemState,
    TimelineItem,
    edit_postmortem,
    submit_postmortem,
)
from srekit.errors import Conflict, NotFound
from srekit.store import repo
from srekit.store.database import transaction

T0 = datetime(2026, 11, 3, 14, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

SECTIONS = PostmortemSections(
    summary="Payments failed.\n\nFor 47 minutes.",
    impact=Impact(
        duration_s=2820.0,
        affected_share=0.125,
        budget_consumed={"checkout/availability": 0.4, "checkout/latency": None},
        description="One payment in eight.",
    ),
    timeline=(TimelineItem(T0, "ana", "P1 incident opened"),),
    action_items=(ActionItem("add a timeout", owner="bo", due_at=T0 + 9 * MINUTE, task_id=None),),
)


def _incident(engine: Engine) -> int:
    with transaction(engine) as session:
        row = repo.create_incident(
            session,
            title="checkout errors",
            severity=Severity.P1,
            opened_at=T0,
            actor="ana",
            services=["checkout"],
            now=T0,
        )
        return row.id


def _draft(incident_id: int) -> Postmortem:
    return Postmortem(
        incident_id=incident_id,
        state=PostmortemState.DRAFT,
        sections=SECTIONS,
        version=1,
        created_at=T0 + MINUTE,
        created_by="ana",
        updated_at=T0 + MINUTE,
        updated_by="ana",
    )


def _timeline(engine: Engine, incident_id: int) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        return [(e.actor, e.text) for e in repo.incident_events(session, incident_id=incident_id)]


def test_a_post_mortem_round_trips(engine: Engine) -> None:
    incident_id = _incident(engine)
    with transaction(engine) as session:
        row = repo.create_postmortem(session, postmortem=_draft(incident_id), now=T0 + MINUTE)
        assert row.id is not None
    with transaction(engine) as session:
        stored = repo.postmortem_of(repo.get_postmortem(session, incident_id=incident_id))
    assert stored == _draft(incident_id)
    with transaction(engine) as session:
        audit = repo.list_audit(session, entity_kind="postmortem")
    assert [(a.action, a.entity_id, a.actor) for a in audit] == [
        ("postmortem.draft", str(incident_id), "ana")
    ]
    assert audit[0].before is None
    assert audit[0].after["sections"]["impact"]["budget_consumed"] == {
        "checkout/availability": 0.4,
        "checkout/latency": None,
    }
    assert (audit[0].after["state"], audit[0].after["version"]) == ("draft", 1)
    assert _timeline(engine, incident_id)[-1] == ("ana", "post-mortem drafted")


def test_one_post_mortem_per_incident(engine: Engine) -> None:
    incident_id = _incident(engine)
    with transaction(engine) as session:
        repo.create_postmortem(session, postmortem=_draft(incident_id))
    second = replace(_draft(incident_id), created_by="bo")
    refused = pytest.raises(Conflict, match=f"incident {incident_id} has a post-mortem")
    with refused, transaction(engine) as session:
        repo.create_postmortem(session, postmortem=second)
    with transaction(engine) as session:
        row = repo.get_postmortem(session, incident_id=incident_id)
        assert row.created_by == "ana"
        assert len(repo.list_audit(session, entity_kind="postmortem")) == 1


def test_what_is_missing_is_named(engine: Engine) -> None:
    incident_id = _incident(engine)
    with transaction(engine) as session:
        assert repo.find_postmortem(session, incident_id=incident_id) is None
        with pytest.raises(NotFound, match=f"incident {incident_id} has no post-mortem yet"):
            repo.get_postmortem(session, incident_id=incident_id)
        with pytest.raises(NotFound, match="no incident 999"):
            repo.get_postmortem(session, incident_id=999)
    with pytest.raises(NotFound, match="no incident 999"), transaction(engine) as session:
        repo.create_postmortem(session, postmortem=_draft(999))


def test_changes_are_audited_and_moves_are_on_the_timeline(engine: Engine) -> None:
    incident_id = _incident(engine)
    with transaction(engine) as session:
        repo.create_postmortem(session, postmortem=_draft(incident_id))
    edited = edit_postmortem(
        _draft(incident_id),
        sections=replace(SECTIONS, root_cause="Retries without a budget."),
        by="bo",
        now=T0 + 2 * MINUTE,
    )
    with transaction(engine) as session:
        row = repo.get_postmortem(session, incident_id=incident_id, for_update=True)
        repo.save_postmortem(session, row=row, postmortem=edited, action="edit")
    submitted = submit_postmortem(edited, by="cy", now=T0 + 3 * MINUTE)
    with transaction(engine) as session:
        row = repo.get_postmortem(session, incident_id=incident_id, for_update=True)
        repo.save_postmortem(session, row=row, postmortem=submitted, action="submit")
    with transaction(engine) as session:
        stored = repo.postmortem_of(repo.get_postmortem(session, incident_id=incident_id))
        audit = list(reversed(repo.list_audit(session, entity_kind="postmortem")))
    assert stored == submitted
    assert (stored.version, stored.state, stored.updated_by) == (2, PostmortemState.IN_REVIEW, "cy")
    assert [(a.action, a.actor) for a in audit] == [
        ("postmortem.draft", "ana"),
        ("postmortem.edit", "bo"),
        ("postmortem.submit", "cy"),
    ]
    assert audit[1].before["sections"]["root_cause"] == ""
    assert audit[1].after["sections"]["root_cause"] == "Retries without a budget."
    assert (audit[2].before["state"], audit[2].after["state"]) == ("draft", "in_review")
    # an edit is not a move: the timeline shows the draft and the submission only
    assert _timeline(engine, incident_id)[-2:] == [
        ("ana", "post-mortem drafted"),
        ("cy", "post-mortem submitted for review"),
    ]
