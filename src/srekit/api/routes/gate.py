"""The deploy gate: `GET /api/v1/gate` (an Argo Rollouts `web` metric) and
`POST /api/v1/gate/flagger` (a Flagger webhook).

The GET form answers 200 with the decision as JSON whatever happens (bad parameters, unknown
service, store down: `allowed: false` and why), because Argo Rollouts counts a body it cannot
read as a success. Flagger reads the status instead: 200 allows, 403 denies. Only a missing,
unknown or under-privileged token gets 401/403, with a JSON body saying `allowed: false`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from srekit.api.deps import BearerDep, Principal, StateDep, checks_role, client_address
from srekit.api.gatekeeper import answer_caller, answer_gate, gate_caller
from srekit.api.responses import BODY_ERRORS
from srekit.api.schemas.base import ErrorOut
from srekit.api.schemas.gate import FlaggerPayload
from srekit.contracts import GateOut
from srekit.core.access import Role
from srekit.flows.gate import GateRequest

router = APIRouter(prefix="/api/v1/gate", tags=["gate"])

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no token, or an unknown or revoked one"},
    429: {"model": ErrorOut, "description": "too many failed authentications: Retry-After"},
    403: {"model": ErrorOut, "description": "the token's role is not deploy or admin"},
}


@router.get("", response_model=GateOut, response_class=JSONResponse, responses=_AUTH)
async def gate(
    *,
    state: StateDep,
    credentials: BearerDep,
    http: Request,
    service: Annotated[str | None, Query(description="the service being deployed")] = None,
    change_type: Annotated[
        str | None,
        Query(
            description="required: feature, config, security_fix, critical_bug, rollback, or a"
            " change type the service's policy names (anything else is denied)"
        ),
    ] = None,
    version: Annotated[str | None, Query(description="the version being deployed")] = None,
    commit_time: Annotated[
        str | None, Query(description="RFC 3339 time of the change's commit (lead time)")
    ] = None,
    fail_open: Annotated[
        str | None, Query(description="true: allow when SLI data cannot be read")
    ] = None,
) -> Response:
    """May this change ship now? Always 200 with `allowed`, `state`, `reasons` and the SLOs'
    figures (Argo Rollouts: `successCondition: result.allowed == true`)."""
    request = GateRequest(
        service=service,
        change_type=change_type,
        version=version,
        commit_time=commit_time,
        fail_open=fail_open,
        source="api",
    )
    return await answer_gate(
        state, credentials, request, deny_status=200, client=client_address(http)
    )


@checks_role(Role.DEPLOY)
async def _flagger_caller(state: StateDep, credentials: BearerDep, http: Request) -> Principal:
    """Flagger's caller, checked before its payload is read (refusals in the gate's shape)."""
    return await gate_caller(state, credentials, client=client_address(http))


@router.post(
    "/flagger",
    response_model=GateOut,
    response_class=JSONResponse,
    responses={
        **_AUTH,
        **BODY_ERRORS,
        403: {"model": GateOut, "description": "denied, or a bad token role"},
    },
)
async def flagger(
    state: StateDep,
    principal: Annotated[Principal, Depends(_flagger_caller)],
    payload: FlaggerPayload,
) -> Response:
    """Flagger's pre-rollout (or confirm-promotion) webhook: 200 allows, 403 denies.

    `metadata.service` names the service (default: the canary's `name`); `metadata` must set
    `change_type`, and may set `version`, `commit_time` and `fail_open`.
    """
    meta = payload.metadata
    request = GateRequest(
        service=meta.get("service") or payload.name,
        change_type=meta.get("change_type"),
        version=meta.get("version"),
        commit_time=meta.get("commit_time"),
        fail_open=meta.get("fail_open"),
        source="flagger",
    )
    return await answer_caller(state, principal, request, deny_status=403)
