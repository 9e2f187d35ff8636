"""`/api/v1/oncall/escalation-policies` (srekit/v1 `kind: EscalationPolicy`) and
`/api/v1/oncall/escalations`: whom an unacknowledged incident pages, when, and where each
incident's escalation is. Viewers read; editors change policies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from srekit.api.deps import Editor, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.escalation import (
    EscalationOut,
    EscalationPolicyDocument,
    EscalationPolicyOut,
)
from srekit.api.schemas.slos import AppliedOut
from srekit.core.escalation import EscalationStatus
from srekit.core.instant import format_instant
from srekit.errors import NotFound, SpecError
from srekit.spec.escalation import escalation_policy_document
from srekit.store.repo import EscalationPolicyRow

router = APIRouter(prefix="/api/v1/oncall", tags=["on call"])
IncidentId = Annotated[int, Path(ge=1, le=2**62, description="the incident's number")]


def _policy_out(row: EscalationPolicyRow) -> EscalationPolicyOut:
    from srekit.store.repo import escalation_policy_of

    return EscalationPolicyOut(
        name=row.name,
        version=row.version,
        created_at=format_instant(row.created_at),
        updated_at=format_instant(row.updated_at),
        document=escalation_policy_document(escalation_policy_of(row)),
    )


@router.get("/escalation-policies", response_model=list[EscalationPolicyOut], responses=AUTH_ERRORS)
def list_escalation_policies(state: StateDep, principal: Viewer) -> list[EscalationPolicyOut]:
    """Every policy by name: the order in which they take incidents."""
    from srekit.store.repo import list_escalation_policies

    with state.session(read_only=True) as session:
        return [_policy_out(row) for row in list_escalation_policies(session)]


@router.get(
    "/escalation-policies/{name}", response_model=EscalationPolicyOut, responses=READ_ERRORS
)
def get_escalation_policy(
    name: StoredName, state: StateDep, principal: Viewer
) -> EscalationPolicyOut:
    from srekit.store.repo import get_escalation_policy

    with state.session(read_only=True) as session:
        return _policy_out(get_escalation_policy(session, name=name))


@router.put(
    "/escalation-policies/{name}",
    response_model=AppliedOut,
    responses={**WRITE_ERRORS, 201: {"model": AppliedOut, "description": "created"}},
)
def put_escalation_policy(
    name: NewName,
    body: EscalationPolicyDocument,
    state: StateDep,
    principal: Editor,
    response: Response,
) -> AppliedOut:
    """Store the policy (201 when new, 200 otherwise; an equal one changes nothing). The
    document's `metadata.name` must be the name in the path. Escalations under way keep the
    version they started with."""
    from srekit.store.repo import apply_escalation_policy

    if body.metadata.name != name:
        raise SpecError(
            f"expected {name!r}, the name in the path, got {body.metadata.name!r}",
            field="metadata.name",
        )
    policy = body.to_policy()
    with state.session() as session:
        applied = apply_escalation_policy(session, policy=policy, actor=principal.name)
        result = AppliedOut(
            name=name,
            result="created" if applied.created else "updated" if applied.changed else "unchanged",
            version=applied.row.version,
            changes=[] if applied.created else list(applied.diff),
        )
    response.status_code = 201 if applied.created else 200
    return result


@router.delete("/escalation-policies/{name}", status_code=204, responses=WRITE_ERRORS)
def delete_escalation_policy(name: StoredName, state: StateDep, principal: Editor) -> Response:
    """Delete a policy: new incidents no longer escalate by it; escalations under way finish by
    their version. The audit log keeps its last spec."""
    from srekit.store.repo import delete_escalation_policy

    with state.session() as session:
        delete_escalation_policy(session, name=name, actor=principal.name)
    return Response(status_code=204)


@router.get("/escalations", response_model=list[EscalationOut], responses=AUTH_ERRORS)
def list_escalations(
    state: StateDep,
    principal: Viewer,
    escalation_state: Annotated[
        Literal["active", "stopped", "exhausted"] | None,
        Query(alias="state", description="only escalations in this state"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Incidents' escalations, newest first."""
    from srekit.flows.escalation import list_escalation_views

    status = None if escalation_state is None else EscalationStatus(escalation_state)
    return [
        view.document() for view in list_escalation_views(state.engine, status=status, limit=limit)
    ]


@router.get("/escalations/{incident_id}", response_model=EscalationOut, responses=READ_ERRORS)
def get_escalation(incident_id: IncidentId, state: StateDep, principal: Viewer) -> dict[str, Any]:
    """An incident's escalation; 404 when it has none (no policy covered it, or it was
    acknowledged before the escalation job saw it)."""
    from srekit.flows.escalation import escalation_view

    view = escalation_view(state.engine, incident_id=incident_id)
    if view is None:
        raise NotFound(f"incident {incident_id} has no escalation")
    return view.document()
