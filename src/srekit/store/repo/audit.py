"""The audit log: who changed what, with the state before and after.

`audited_write` is the one step every change to the configuration ends with: flush the change
and append its audit row in the same transaction, so a change is never stored unrecorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from srekit.core.specs import canonical_json
from srekit.store.repo._base import refused_as_conflict, when
from srekit.store.tables import AuditRow

__all__ = ["audit_between", "audited_write", "list_audit", "newest_audit_id", "record_audit"]


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_kind: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
    now: datetime | None = None,
) -> AuditRow:
    """Append one audit row; `before`/`after` are JSON-ready values (None: did not exist)."""
    row = AuditRow(
        at=when(now),
        actor=actor,
        action=action,
        entity_kind=entity_kind,
        entity_id=entity_id,
        before_json=None if before is None else canonical_json(before),
        after_json=None if after is None else canonical_json(after),
    )
    session.add(row)
    return row


def audited_write(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    refused: str | None = None,
    now: datetime | None = None,
) -> AuditRow:
    """Flush the change pending in `session`, then audit it in the same transaction.

    `action` is `<kind>.<verb>` (`slo.update`); its kind is the audited entity's kind and
    `target` names the entity. With `refused`, a constraint refusing the change is a Conflict
    saying `refused` (and why).
    """
    if refused is None:
        session.flush()
    else:
        with refused_as_conflict(refused):
            session.flush()
    return record_audit(
        session,
        actor=actor,
        action=action,
        entity_kind=action.partition(".")[0],
        entity_id=target,
        before=before,
        after=after,
        now=now,
    )


def list_audit(
    session: Session,
    *,
    limit: int | None = 50,
    entity_kind: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    offset: int = 0,
) -> list[AuditRow]:
    """Audit rows, newest first (by id: the order they were written), `offset` newest ones
    skipped (a page of them)."""
    query = select(AuditRow).order_by(AuditRow.id.desc())
    if entity_kind is not None:
        query = query.where(AuditRow.entity_kind == entity_kind)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def audit_entity_kinds(session: Session) -> list[str]:
    """The kinds of entity the audit log names, by name."""
    return list(session.scalars(select(AuditRow.entity_kind).distinct().order_by("entity_kind")))


def newest_audit_id(session: Session) -> int | None:
    """The newest audit row's id (None: none yet): it moves whenever the configuration did."""
    return session.scalar(select(func.max(AuditRow.id)))


def audit_between(
    session: Session, *, entity_kind: str, start: datetime, end: datetime
) -> list[AuditRow]:
    """Audit rows of one kind of entity written in [start, end), oldest first."""
    query = (
        select(AuditRow)
        .where(AuditRow.entity_kind == entity_kind, AuditRow.at >= start, AuditRow.at < end)
        .order_by(AuditRow.at, AuditRow.id)
    )
    return list(session.scalars(query))
