"""`/api/v1/teams`: teams own services. PUT creates, DELETE refuses (409) while they own any."""

from __future__ import annotations

from fastapi import APIRouter, Response

from srekit.api.deps import Editor, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.teams import TeamOut
from srekit.core.instant import format_instant
from srekit.store.repo import TeamRow

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


def _team_out(row: TeamRow) -> TeamOut:
    return TeamOut(
        name=row.name,
        services=[service.name for service in row.services],
        created_at=format_instant(row.created_at),
    )


@router.get("", response_model=list[TeamOut], responses=AUTH_ERRORS)
def list_teams(state: StateDep, principal: Viewer) -> list[TeamOut]:
    from srekit.store.repo import list_teams

    with state.session(read_only=True) as session:
        return [_team_out(row) for row in list_teams(session)]


@router.get("/{name}", response_model=TeamOut, responses=READ_ERRORS)
def get_team(name: StoredName, state: StateDep, principal: Viewer) -> TeamOut:
    from srekit.store.repo import get_team

    with state.session(read_only=True) as session:
        return _team_out(get_team(session, name=name))


@router.put(
    "/{name}",
    response_model=TeamOut,
    responses={**WRITE_ERRORS, 201: {"model": TeamOut, "description": "created"}},
)
def put_team(name: NewName, state: StateDep, principal: Editor, response: Response) -> TeamOut:
    """Create the team (201), or leave an existing one as it is (200)."""
    from srekit.store.repo import find_team, upsert_team

    with state.session() as session:
        existed = find_team(session, name=name) is not None
        row = upsert_team(session, name=name, actor=principal.name)
        session.refresh(row)
        document = _team_out(row)
    response.status_code = 200 if existed else 201
    return document


@router.delete("/{name}", status_code=204, responses=WRITE_ERRORS)
def delete_team(name: StoredName, state: StateDep, principal: Editor) -> Response:
    """Delete the team; 409 while services still belong to it."""
    from srekit.store.repo import delete_team

    with state.session() as session:
        delete_team(session, name=name, actor=principal.name)
    return Response(status_code=204)
