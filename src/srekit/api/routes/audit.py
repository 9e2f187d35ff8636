"""`GET /api/v1/audit`: who changed what, newest first, with each entity's before and after.

Viewers may read it: the trail holds no more than viewers can read anyway (specs, policies,
token names and roles, never a token or its hash), and seeing who changed an SLO is part of
trusting it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from srekit.api.deps import StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS
from srekit.api.schemas.audit import AuditOut
from srekit.core.instant import format_instant

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=list[AuditOut], responses=AUTH_ERRORS)
def list_audit(
    state: StateDep,
    principal: Viewer,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    entity_kind: Annotated[
        str | None, Query(max_length=40, description="slo, service, team, policy, token")
    ] = None,
    entity_id: Annotated[
        str | None, Query(max_length=400, description="checkout/availability, team-x, ...")
    ] = None,
) -> list[AuditOut]:
    from srekit.store.repo import list_audit

    with state.session(read_only=True) as session:
        return [
            AuditOut(
                id=row.id,
                at=format_instant(row.at),
                actor=row.actor,
                action=row.action,
                entity_kind=row.entity_kind,
                entity_id=row.entity_id,
                before=row.before,
                after=row.after,
            )
            for row in list_audit(
                session, limit=limit, entity_kind=entity_kind, entity_id=entity_id
            )
        ]
