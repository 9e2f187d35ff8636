"""Error-budget policies by name: every change is a new version, audited; an equal policy
writes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.policy import BudgetPolicy
from srekit.errors import NotFound
from srekit.store.codec import CODEC_VERSION, policy_to_dict
from srekit.store.repo._base import Applied, check_name, find_named
from srekit.store.repo._versioned import apply_versioned_spec
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

    def stamp_codec(row: PolicyRow, _at: datetime) -> None:
        row.codec_version = CODEC_VERSION

    return apply_versioned_spec(
        session,
        PolicyRow,
        name=policy.name,
        spec=policy_to_dict(policy),
        kind="policy",
        shown=f"policy {policy.name!r}",
        actor=actor,
        now=now,
        on_version=stamp_codec,
    )
