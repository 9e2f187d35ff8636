"""`GET /api/v1/deployments`: the deploys the gate was asked about, and its answers."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Query

from srekit.api.deps import StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, time_or_none
from srekit.api.schemas.deployments import DeploymentOut
from srekit.core.instant import format_instant
from srekit.errors import SrekitError

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])


@router.get("", response_model=list[DeploymentOut], responses=AUTH_ERRORS)
def list_deployments(
    state: StateDep,
    principal: Viewer,
    service: Annotated[str | None, Query(max_length=200, description="only this service")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[DeploymentOut]:
    """Newest first, including the gate's decisions of the last moments (written first)."""
    from srekit.store.repo import list_deployments

    # reading will say so, with the right status, if the store is down
    with suppress(SrekitError):
        state.gate.recorder.flush()
    with state.session(read_only=True) as session:
        return [
            DeploymentOut(
                id=row.id,
                service=row.service,
                version=row.version,
                commit_time=time_or_none(row.commit_time),
                change_type=row.change_type,
                allowed=row.allowed,
                decision=row.decision,
                state=row.state,
                reasons=list(row.reasons),
                requested_at=format_instant(row.requested_at),
                requested_by=row.requested_by,
                source=row.source,
            )
            for row in list_deployments(session, service=service, limit=limit)
        ]
