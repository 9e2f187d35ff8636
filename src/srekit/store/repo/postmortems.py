"""Post-mortems: one per incident, its sections as canonical JSON.

The rules are `core.postmortem`'s: callers compute the post-mortem after a change and store it
with `save_postmortem`, which writes its audit row (`postmortem.<action>`) in the same
transaction and, for a change of state, an entry on the incident's timeline. Turning action
items into follow-up tasks is the publishing flow's step (`incidents.add_task`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.incident import TimelineKind
from srekit.core.instant import format_instant
from srekit.core.postmortem import Postmortem, PostmortemState, sections_document
from srekit.core.specs import canonical_json
from srekit.errors import NotFound
from srekit.spec.postmortem import sections_from_body
from srekit.store.repo.audit import audited_write
from srekit.store.repo.incidents import add_event, get_incident
from srekit.store.tables import PostmortemRow

__all__ = [
    "create_postmortem",
    "find_postmortem",
    "get_postmortem",
    "postmortem_of",
    "save_postmortem",
]

_SAID = {
    PostmortemState.DRAFT: "post-mortem sent back to draft",
    PostmortemState.IN_REVIEW: "post-mortem submitted for review",
    PostmortemState.PUBLISHED: "post-mortem published",
}


def postmortem_of(row: PostmortemRow) -> Postmortem:
    """The core post-mortem a row stores."""
    return Postmortem(
        incident_id=row.incident_id,
        state=PostmortemState(row.state),
        sections=sections_from_body(row.body),
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        published_at=row.published_at,
        published_by=row.published_by,
    )


def _audit_view(row: PostmortemRow) -> dict[str, Any]:
    return {
        "incident": row.incident_id,
        "state": row.state,
        "version": row.version,
        "published_at": None if row.published_at is None else format_instant(row.published_at),
        "sections": row.body,
    }


def _write(row: PostmortemRow, postmortem: Postmortem) -> None:
    row.state = postmortem.state.value
    row.body_json = canonical_json(sections_document(postmortem.sections))
    row.version = postmortem.version
    row.created_at = postmortem.created_at
    row.created_by = postmortem.created_by
    row.updated_at = postmortem.updated_at
    row.updated_by = postmortem.updated_by
    row.published_at = postmortem.published_at
    row.published_by = postmortem.published_by


def create_postmortem(
    session: Session, *, postmortem: Postmortem, now: datetime | None = None
) -> PostmortemRow:
    """Store an incident's first post-mortem (its draft); a Conflict when the incident has one
    already, NotFound when there is no such incident."""
    get_incident(session, incident_id=postmortem.incident_id)
    row = PostmortemRow(incident_id=postmortem.incident_id)
    _write(row, postmortem)
    session.add(row)
    audited_write(
        session,
        actor=postmortem.created_by,
        action="postmortem.draft",
        target=str(postmortem.incident_id),
        after=_audit_view(row),
        refused=f"incident {postmortem.incident_id} has a post-mortem",
        now=now,
    )
    add_event(
        session,
        incident_id=postmortem.incident_id,
        kind=TimelineKind.NOTE,
        actor=postmortem.created_by,
        text="post-mortem drafted",
        at=postmortem.created_at,
    )
    return row


def find_postmortem(
    session: Session, *, incident_id: int, for_update: bool = False
) -> PostmortemRow | None:
    """The incident's post-mortem, if it has one; `for_update` locks its row (PostgreSQL) until
    the transaction ends, so two publishers cannot both turn its action items into tasks."""
    query = select(PostmortemRow).where(PostmortemRow.incident_id == incident_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def get_postmortem(
    session: Session, *, incident_id: int, for_update: bool = False
) -> PostmortemRow:
    """The incident's post-mortem; NotFound saying whether the incident or its post-mortem is
    missing."""
    row = find_postmortem(session, incident_id=incident_id, for_update=for_update)
    if row is None:
        get_incident(session, incident_id=incident_id)
        raise NotFound(
            f"incident {incident_id} has no post-mortem yet (srekit postmortem draft {incident_id})"
        )
    return row


def save_postmortem(
    session: Session,
    *,
    row: PostmortemRow,
    postmortem: Postmortem,
    action: str,
    now: datetime | None = None,
) -> PostmortemRow:
    """Store `postmortem` (the row's post-mortem after a change `core` computed) over `row`,
    audited as `postmortem.<action>` by its `updated_by`; a change of state is also an entry
    on the incident's timeline."""
    before = _audit_view(row)
    moved = row.state != postmortem.state.value
    _write(row, postmortem)
    audited_write(
        session,
        actor=postmortem.updated_by,
        action=f"postmortem.{action}",
        target=str(row.incident_id),
        before=before,
        after=_audit_view(row),
        now=now,
    )
    if moved:
        add_event(
            session,
            incident_id=row.incident_id,
            kind=TimelineKind.NOTE,
            actor=postmortem.updated_by,
            text=_SAID[postmortem.state],
            at=postmortem.updated_at,
        )
    return row
