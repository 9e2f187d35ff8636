"""Error-budget policies by name: every change is a new version, audited; an equal policy
writes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.policy import BudgetPolicy
from srekit.core.specs import canonical_json, spec_diff
from srekit.errors import NotFound
from srekit.store.codec import CODEC_VERSION, policy_to_dict
from srekit.store.repo._base import Applied, check_name, find_named, when
from srekit.store.repo.audit import audited_write
from srekit.store.tables import PolicyRow

__all__ = ["apply_policy", "get_policy", "list_policies"]


def get_policy(session: Session, *, name: str) -> PolicyRow:
    row = find_named(session, PolicyRow, name)
    if row is None:
        raise NotFound(f"no policy {name!r} in the store")
    return row


def list_policies(session: Session) -> list[PolicyRow]:
    return list(session.scalars(select(PolicyRow).order_by(PolicyRow.name)))


def apply_policy(
    session: Session, *, policy: BudgetPolicy, actor: str, now: datetime | None = None
) -> Applied[PolicyRow]:
    """Store `policy` under its name: created, updated (new version, audited) or unchanged."""
    check_name(policy.name, "policy")
    at = when(now)
    spec = policy_to_dict(policy)
    spec_json = canonical_json(spec)
    # FOR UPDATE: concurrent changes on PostgreSQL take turns, none lost (see apply_slo)
    row = session.scalars(
        select(PolicyRow).where(PolicyRow.name == policy.name).with_for_update()
    ).one_or_none()
    if row is not None and row.spec_json == spec_json:
        return Applied(row, False, ())
    before = {"version": row.version, "spec": row.spec()} if row is not None else None
    diff = spec_diff(row.spec(), spec) if row is not None else ("created",)
    if row is None:
        row = PolicyRow(name=policy.name, version=1, created_at=at)
        session.add(row)
    else:
        row.version += 1
    row.spec_json = spec_json
    row.codec_version = CODEC_VERSION
    row.updated_at = at
    audited_write(
        session,
        actor=actor,
        action="policy.create" if before is None else "policy.update",
        target=policy.name,
        before=before,
        after={"version": row.version, "spec": spec},
        refused=f"policy {policy.name!r} could not be stored",
        now=now,
    )
    return Applied(row, True, diff)
