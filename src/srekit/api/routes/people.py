"""`/api/v1/people`: the people rotations list, by handle. Viewers read; editors add, change
and remove. PUT answers 201 when it added someone, 200 otherwise."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from srekit.api.deps import Editor, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.people import PersonIn, PersonOut
from srekit.contracts import person_document

router = APIRouter(prefix="/api/v1/people", tags=["on call"])


@router.get("", response_model=list[PersonOut], responses=AUTH_ERRORS)
def list_people(
    state: StateDep,
    principal: Viewer,
    team: Annotated[str | None, Query(max_length=200, description="only this team's")] = None,
) -> list[dict[str, Any]]:
    """Everyone, by handle."""
    from srekit.store.repo import list_people, person_of

    with state.session(read_only=True) as session:
        return [person_document(person_of(row)) for row in list_people(session, team=team)]


@router.get("/{name}", response_model=PersonOut, responses=READ_ERRORS)
def get_person(name: StoredName, state: StateDep, principal: Viewer) -> dict[str, Any]:
    from srekit.store.repo import get_person, person_of

    with state.session(read_only=True) as session:
        return person_document(person_of(get_person(session, name=name)))


@router.put(
    "/{name}",
    response_model=PersonOut,
    responses={**WRITE_ERRORS, 201: {"model": PersonOut, "description": "added"}},
)
def put_person(
    name: NewName, body: PersonIn, state: StateDep, principal: Editor, response: Response
) -> dict[str, Any]:
    """Add the person (201) or replace their details (200; equal details change nothing)."""
    from srekit.store.repo import put_person

    person = body.to_person(name)
    with state.session() as session:
        _, result = put_person(session, person=person, actor=principal.name)
    response.status_code = 201 if result == "created" else 200
    return person_document(person)


@router.delete("/{name}", status_code=204, responses=WRITE_ERRORS)
def delete_person(name: StoredName, state: StateDep, principal: Editor) -> Response:
    """Remove the person; rotations listing the handle keep it, and the audit log keeps them."""
    from srekit.store.repo import delete_person

    with state.session() as session:
        delete_person(session, name=name, actor=principal.name)
    return Response(status_code=204)
