"""Applying a spec stored whole as JSON under a unique name, one version per change: what
policies, alert routings and escalation policies share.

The row is read FOR UPDATE, so concurrent changes on PostgreSQL take turns and none is lost
(SQLite's single writer does the same); an equal spec writes nothing; a new or changed one
becomes the next version, audited as `<kind>.create` or `<kind>.update` with the spec before
and after. What a kind keeps besides (a codec version, a row per version) it adds in
`on_version`, before the audit flushes the change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.specs import canonical_json, spec_diff
from srekit.store.repo._base import Applied, when
from srekit.store.repo.audit import audited_write
from srekit.store.tables import AlertRoutingRow, EscalationPolicyRow, PolicyRow

__all__ = ["apply_versioned_spec"]

SpecRowT = TypeVar("SpecRowT", PolicyRow, AlertRoutingRow, EscalationPolicyRow)


def apply_versioned_spec(
    session: Session,
    row_type: type[SpecRowT],
    *,
    name: str,
    spec: dict[str, Any],
    kind: str,
    shown: str,
    actor: str,
    now: datetime | None,
    first_version: Callable[[], int] = lambda: 1,
    on_version: Callable[[SpecRowT, datetime], None] | None = None,
) -> Applied[SpecRowT]:
    """Store `spec` as the row of `row_type` named `name`: created (as `first_version()`),
    updated (the next version) or unchanged. `kind` names the audit action, `shown` the spec
    in the refusal a constraint makes ("policy 'payments'")."""
    at = when(now)
    spec_json = canonical_json(spec)
    row = session.scalars(
        select(row_type).where(row_type.name == name).with_for_update()
    ).one_or_none()
    if row is not None and row.spec_json == spec_json:
        return Applied(row, False, ())
    before = {"version": row.version, "spec": row.spec()} if row is not None else None
    diff = spec_diff(row.spec(), spec) if row is not None else ("created",)
    if row is None:
        row = row_type(name=name, version=first_version(), created_at=at)
        session.add(row)
    else:
        row.version += 1
    row.spec_json = spec_json
    row.updated_at = at
    if on_version is not None:
        on_version(row, at)
    audited_write(
        session,
        actor=actor,
        action=f"{kind}.create" if before is None else f"{kind}.update",
        target=name,
        before=before,
        after={"version": row.version, "spec": spec},
        refused=f"{shown} could not be stored",
        now=now,
    )
    return Applied(row, True, diff)
