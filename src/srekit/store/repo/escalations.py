"""Escalation policies by name, every version kept, and each incident's escalation state.

A policy changes like an alert routing: a new version, audited; an equal policy writes nothing.
Every version's spec is also kept in `escalation_policy_versions`, even after the policy is
deleted, so an escalation follows the version it started with to its end; a policy deleted and
applied again continues its numbering. An incident's escalation (`incident_escalations`, keyed
by the incident) holds `core.escalation.EscalationState`; the rules that move it are core's.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from srekit.core.escalation import EscalationPolicy, EscalationState, EscalationStatus
from srekit.core.incident import IncidentState
from srekit.errors import NotFound
from srekit.spec.escalation import escalation_policy_from_spec, escalation_policy_spec
from srekit.store.repo._base import Applied, check_name, refused_as_conflict
from srekit.store.repo._versioned import apply_versioned_spec
from srekit.store.repo.audit import audited_write
from srekit.store.tables import (
    EscalationPolicyRow,
    EscalationPolicyVersionRow,
    IncidentEscalationRow,
    IncidentRow,
    IncidentServiceRow,
)

__all__ = [
    "answered_escalations",
    "apply_escalation_policy",
    "delete_escalation_policy",
    "due_escalations",
    "escalation_policy_of",
    "escalation_policy_version",
    "escalation_state_of",
    "find_escalation",
    "find_escalation_policy",
    "get_escalation_policy",
    "list_escalation_policies",
    "list_escalations",
    "save_escalation",
    "start_incident_escalation",
    "unescalated_incidents",
]

_ACTIVE = EscalationStatus.ACTIVE.value


def escalation_policy_of(row: EscalationPolicyRow | EscalationPolicyVersionRow) -> EscalationPolicy:
    """The core policy a stored row holds (a SpecError names the field when it does not read)."""
    return escalation_policy_from_spec(row.name, row.spec())


def find_escalation_policy(session: Session, *, name: str) -> EscalationPolicyRow | None:
    return session.scalars(
        select(EscalationPolicyRow).where(EscalationPolicyRow.name == name)
    ).one_or_none()


def get_escalation_policy(session: Session, *, name: str) -> EscalationPolicyRow:
    row = find_escalation_policy(session, name=name)
    if row is None:
        raise NotFound(f"no escalation policy {name!r} in the store")
    return row


def list_escalation_policies(session: Session) -> list[EscalationPolicyRow]:
    """Every policy, by name: the order in which they take incidents."""
    return list(session.scalars(select(EscalationPolicyRow).order_by(EscalationPolicyRow.name)))


def escalation_policy_version(session: Session, *, name: str, version: int) -> EscalationPolicy:
    """The policy as it was at `version` (kept after later changes and deletion)."""
    row = session.get(EscalationPolicyVersionRow, (name, version))
    if row is None:
        raise NotFound(f"no version {version} of escalation policy {name!r} in the store")
    return escalation_policy_of(row)


def apply_escalation_policy(
    session: Session, *, policy: EscalationPolicy, actor: str, now: datetime | None = None
) -> Applied[EscalationPolicyRow]:
    """Store `policy` under its name: created, updated (new version, audited) or unchanged.
    Every version is kept beside it: an escalation follows the version it started with."""
    check_name(policy.name, "metadata.name")

    def after_last_kept() -> int:
        # a policy deleted and applied again goes on from its last kept version
        last = session.scalar(
            select(func.max(EscalationPolicyVersionRow.version)).where(
                EscalationPolicyVersionRow.name == policy.name
            )
        )
        return (last or 0) + 1

    def keep_version(row: EscalationPolicyRow, at: datetime) -> None:
        session.add(
            EscalationPolicyVersionRow(
                name=row.name, version=row.version, spec_json=row.spec_json, created_at=at
            )
        )

    return apply_versioned_spec(
        session,
        EscalationPolicyRow,
        name=policy.name,
        spec=escalation_policy_spec(policy),
        kind="escalation_policy",
        shown=f"escalation policy {policy.name!r}",
        actor=actor,
        now=now,
        first_version=after_last_kept,
        on_version=keep_version,
    )


def delete_escalation_policy(
    session: Session, *, name: str, actor: str, now: datetime | None = None
) -> None:
    """Delete a policy: no new incident escalates by it; escalations under way finish by the
    version they started with. The audit row keeps its last spec."""
    row = get_escalation_policy(session, name=name)
    before = {"version": row.version, "spec": row.spec()}
    session.delete(row)
    audited_write(
        session,
        actor=actor,
        action="escalation_policy.delete",
        target=name,
        before=before,
        now=now,
    )


# --- incidents' escalations ---------------------------------------------------------------------


def escalation_state_of(row: IncidentEscalationRow) -> EscalationState:
    return EscalationState(
        next_step=row.next_step,
        next_at=row.next_at,
        status=EscalationStatus(row.state),
        reason=row.reason,
    )


def find_escalation(session: Session, *, incident_id: int) -> IncidentEscalationRow | None:
    return session.get(IncidentEscalationRow, incident_id)


def list_escalations(
    session: Session, *, status: EscalationStatus | None = None, limit: int | None = 100
) -> list[IncidentEscalationRow]:
    """Escalations, newest first, all or in one state."""
    query = select(IncidentEscalationRow)
    if status is not None:
        query = query.where(IncidentEscalationRow.state == status.value)
    query = query.order_by(
        IncidentEscalationRow.started_at.desc(), IncidentEscalationRow.incident_id.desc()
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def unescalated_incidents(
    session: Session, *, services: Collection[str], limit: int = 100
) -> list[IncidentRow]:
    """Triggered incidents on any of `services` that nobody acknowledged and no escalation
    started for, oldest first: what a round of the escalation job starts escalations for."""
    if not services:
        return []
    on_services = select(IncidentServiceRow.incident_id).where(
        IncidentServiceRow.service.in_(sorted(services))
    )
    return list(
        session.scalars(
            select(IncidentRow)
            .outerjoin(IncidentEscalationRow, IncidentEscalationRow.incident_id == IncidentRow.id)
            .where(
                IncidentEscalationRow.incident_id.is_(None),
                IncidentRow.state == IncidentState.TRIGGERED.value,
                IncidentRow.acknowledged_at.is_(None),
                IncidentRow.id.in_(on_services),
            )
            .options(selectinload(IncidentRow.services))
            .order_by(IncidentRow.opened_at, IncidentRow.id)
            .limit(limit)
        )
    )


def start_incident_escalation(
    session: Session,
    *,
    incident_id: int,
    policy_name: str,
    policy_version: int,
    state: EscalationState,
    now: datetime,
) -> IncidentEscalationRow:
    """Record that the incident escalates by this policy version, from `state`; a Conflict
    when its escalation started already (one per incident)."""
    row = IncidentEscalationRow(
        incident_id=incident_id,
        policy_name=policy_name,
        policy_version=policy_version,
        next_step=state.next_step,
        next_at=state.next_at,
        state=state.status.value,
        reason=state.reason,
        started_at=now,
        updated_at=now,
    )
    session.add(row)
    with refused_as_conflict(f"incident {incident_id} escalates already"):
        session.flush()
    return row


def save_escalation(
    session: Session, *, row: IncidentEscalationRow, state: EscalationState, now: datetime
) -> IncidentEscalationRow:
    """Store the escalation's new state over `row`."""
    row.next_step = state.next_step
    row.next_at = state.next_at
    row.state = state.status.value
    row.reason = state.reason
    row.updated_at = now
    session.flush()
    return row


def due_escalations(
    session: Session, *, now: datetime, limit: int = 100
) -> list[IncidentEscalationRow]:
    """Active escalations whose next step is due at `now`, the earliest first."""
    return list(
        session.scalars(
            select(IncidentEscalationRow)
            .where(
                IncidentEscalationRow.state == _ACTIVE,
                IncidentEscalationRow.next_at <= now,
            )
            .order_by(IncidentEscalationRow.next_at, IncidentEscalationRow.incident_id)
            .limit(limit)
        )
    )


def answered_escalations(session: Session, *, limit: int = 100) -> list[IncidentEscalationRow]:
    """Active escalations whose incident was acknowledged or is no longer triggered: what a
    round stops, whenever their next step is due."""
    return list(
        session.scalars(
            select(IncidentEscalationRow)
            .join(IncidentRow, IncidentRow.id == IncidentEscalationRow.incident_id)
            .where(
                IncidentEscalationRow.state == _ACTIVE,
                or_(
                    IncidentRow.acknowledged_at.is_not(None),
                    IncidentRow.state != IncidentState.TRIGGERED.value,
                ),
            )
            .order_by(IncidentEscalationRow.incident_id)
            .limit(limit)
        )
    )
