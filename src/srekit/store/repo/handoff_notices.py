"""The handoffs the notifier has seen, once per rotation and instant: claimed before the
checklist is sent (at most once per handoff, across restarts and replicas), then stamped
with the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from srekit.store.repo._base import core_connection, table_of
from srekit.store.tables import HandoffNoticeRow

__all__ = [
    "claim_handoff_notice",
    "handoff_notices",
    "record_handoff_delivery",
    "seen_handoffs",
]

_NOTICES = table_of(HandoffNoticeRow)
_INSERT = {  # by dialect: INSERT … ON CONFLICT DO NOTHING is spelled by each
    "postgresql": postgresql.insert(_NOTICES).on_conflict_do_nothing(
        index_elements=["rotation", "at"]
    ),
    "sqlite": sqlite.insert(_NOTICES).on_conflict_do_nothing(index_elements=["rotation", "at"]),
}
# a row back only when this insert wrote it (rowcount is not reliable across drivers)
_CLAIM = {dialect: insert.returning(_NOTICES.c.id) for dialect, insert in _INSERT.items()}


def claim_handoff_notice(
    session: Session,
    *,
    rotation: str,
    at: datetime,
    member: str,
    delivered: bool | None = None,
) -> bool:
    """Record the handoff of `rotation` at `at` to `member`; True when this call recorded it,
    False when it was recorded already (by an earlier round, another replica, a process since
    restarted). `delivered` False records a handoff that will not be sent (seen too late)."""
    connection = core_connection(session)
    inserted = connection.execute(
        _CLAIM[connection.dialect.name],
        {"rotation": rotation, "at": at, "member": member, "sent_at": None, "delivered": delivered},
    ).scalar_one_or_none()
    return inserted is not None


def record_handoff_delivery(
    session: Session, *, rotation: str, at: datetime, sent_at: datetime, delivered: bool
) -> None:
    """Stamp a claimed handoff with when it was sent and whether a contact received it."""
    session.execute(
        update(HandoffNoticeRow)
        .where(HandoffNoticeRow.rotation == rotation, HandoffNoticeRow.at == at)
        .values(sent_at=sent_at, delivered=delivered)
        .execution_options(synchronize_session=False)
    )


def seen_handoffs(session: Session, *, rotation: str, since: datetime) -> set[datetime]:
    """The instants of the rotation's handoffs recorded after `since`."""
    return set(
        session.scalars(
            select(HandoffNoticeRow.at).where(
                HandoffNoticeRow.rotation == rotation, HandoffNoticeRow.at > since
            )
        )
    )


def handoff_notices(session: Session, *, rotation: str | None = None) -> Sequence[HandoffNoticeRow]:
    """The recorded handoffs (of one rotation, or all), by rotation then instant."""
    query = select(HandoffNoticeRow).order_by(HandoffNoticeRow.rotation, HandoffNoticeRow.at)
    if rotation is not None:
        query = query.where(HandoffNoticeRow.rotation == rotation)
    return list(session.scalars(query))
