"""`/api/v1/services`: PUT creates a service or moves it to a team; DELETE refuses (409)
while it has SLOs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from srekit.api.deps import Editor, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.services import ServiceOut, ServiceWrite
from srekit.core.instant import format_instant
from srekit.store.repo import ServiceRow

router = APIRouter(prefix="/api/v1/services", tags=["services"])


def _service_out(row: ServiceRow) -> ServiceOut:
    return ServiceOut(
        name=row.name,
        team=row.team.name if row.team else None,
        slos=[slo.name for slo in row.slos],
        created_at=format_instant(row.created_at),
        updated_at=format_instant(row.updated_at),
    )


@router.get("", response_model=list[ServiceOut], responses=AUTH_ERRORS)
def list_services(state: StateDep, principal: Viewer) -> list[ServiceOut]:
    from srekit.store.repo import list_services

    with state.session(read_only=True) as session:
        return [_service_out(row) for row in list_services(session)]


@router.get("/{name}", response_model=ServiceOut, responses=READ_ERRORS)
def get_service(name: StoredName, state: StateDep, principal: Viewer) -> ServiceOut:
    from srekit.store.repo import get_service

    with state.session(read_only=True) as session:
        return _service_out(get_service(session, name=name))


@router.put(
    "/{name}",
    response_model=ServiceOut,
    responses={**WRITE_ERRORS, 201: {"model": ServiceOut, "description": "created"}},
)
def put_service(
    name: NewName,
    state: StateDep,
    principal: Editor,
    response: Response,
    body: Annotated[ServiceWrite | None, Body()] = None,
) -> ServiceOut:
    """Create the service (201) or update it (200); `team` moves it (the team is created when
    missing), no team leaves its owner as it is."""
    from srekit.errors import NotFound
    from srekit.store.repo import get_service, upsert_service

    with state.session() as session:
        try:
            get_service(session, name=name)
            existed = True
        except NotFound:
            existed = False
        row = upsert_service(
            session, name=name, team=body.team if body else None, actor=principal.name
        )
        session.flush()
        session.refresh(row)
        document = _service_out(row)
    state.gate.invalidate()
    response.status_code = 200 if existed else 201
    return document


@router.delete("/{name}", status_code=204, responses=WRITE_ERRORS)
def delete_service(name: StoredName, state: StateDep, principal: Editor) -> Response:
    """Delete the service; 409 while it has SLOs."""
    from srekit.store.repo import delete_service

    with state.session() as session:
        delete_service(session, name=name, actor=principal.name)
    state.gate.invalidate()
    return Response(status_code=204)
