"""`/api/v1/policies`: error-budget policies by name. Anyone may read them; changing one
changes what every deploy of the services it gates may do, so it needs an admin token."""

from __future__ import annotations

from fastapi import APIRouter, Response

from srekit.api.deps import Admin, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.policies import PolicyOut
from srekit.api.schemas.slos import AppliedOut
from srekit.core.instant import format_instant
from srekit.spec.model import PolicySpec
from srekit.store.repo import PolicyRow

router = APIRouter(prefix="/api/v1/policies", tags=["policies"])


def _policy_out(row: PolicyRow) -> PolicyOut:
    return PolicyOut(
        name=row.name,
        version=row.version,
        created_at=format_instant(row.created_at),
        updated_at=format_instant(row.updated_at),
        spec=row.spec(),
    )


@router.get("", response_model=list[PolicyOut], responses=AUTH_ERRORS)
def list_policies(state: StateDep, principal: Viewer) -> list[PolicyOut]:
    """Stored policies (SLOs naming none, or `default` when none is stored, use the built-in
    default ladder)."""
    from srekit.store.repo import list_policies

    with state.session(read_only=True) as session:
        return [_policy_out(row) for row in list_policies(session)]


@router.get("/{name}", response_model=PolicyOut, responses=READ_ERRORS)
def get_policy(name: StoredName, state: StateDep, principal: Viewer) -> PolicyOut:
    from srekit.store.repo import get_policy

    with state.session(read_only=True) as session:
        return _policy_out(get_policy(session, name=name))


@router.put(
    "/{name}",
    response_model=AppliedOut,
    responses={**WRITE_ERRORS, 201: {"model": AppliedOut, "description": "created"}},
)
def put_policy(
    name: NewName, body: PolicySpec, state: StateDep, principal: Admin, response: Response
) -> AppliedOut:
    """Store the policy (201 when new, 200 otherwise; an equal one changes nothing)."""
    from srekit.store.repo import apply_policy

    policy = body.to_policy(name)
    with state.session() as session:
        applied = apply_policy(session, policy=policy, actor=principal.name)
        result = AppliedOut(
            name=name,
            result="created" if applied.created else "updated" if applied.changed else "unchanged",
            version=applied.row.version,
            changes=[] if applied.created else list(applied.diff),
        )
    state.gate.invalidate()
    response.status_code = 201 if applied.created else 200
    return result
