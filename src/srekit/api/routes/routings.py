"""`/api/v1/routings`: alert routings by name (srekit/v1 `kind: AlertRouting`). The one named
`default` decides which alerts open incidents; while none is stored the built-in routing
holds, and is listed and read as such (`built_in: true`). Viewers read; editors change."""

from __future__ import annotations

from fastapi import APIRouter, Response

from srekit.api.deps import Editor, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.routings import AlertRoutingDocument, RoutingOut
from srekit.api.schemas.slos import AppliedOut
from srekit.core.instant import format_instant
from srekit.core.routing import DEFAULT_ROUTING
from srekit.errors import SpecError
from srekit.spec.routing import routing_document
from srekit.store.repo import AlertRoutingRow

router = APIRouter(prefix="/api/v1/routings", tags=["routings"])


def _routing_out(row: AlertRoutingRow) -> RoutingOut:
    from srekit.store.repo import routing_of

    return RoutingOut(
        name=row.name,
        built_in=False,
        version=row.version,
        created_at=format_instant(row.created_at),
        updated_at=format_instant(row.updated_at),
        document=routing_document(routing_of(row)),
    )


_BUILT_IN = RoutingOut(
    name=DEFAULT_ROUTING.name,
    built_in=True,
    version=None,
    created_at=None,
    updated_at=None,
    document=routing_document(DEFAULT_ROUTING),
)


@router.get("", response_model=list[RoutingOut], responses=AUTH_ERRORS)
def list_routings(state: StateDep, principal: Viewer) -> list[RoutingOut]:
    """Stored routings by name, and the built-in default while none named default is stored."""
    from srekit.store.repo import list_routings

    with state.session(read_only=True) as session:
        stored = [_routing_out(row) for row in list_routings(session)]
    if all(routing.name != DEFAULT_ROUTING.name for routing in stored):
        stored = sorted([*stored, _BUILT_IN], key=lambda routing: routing.name)
    return stored


@router.get("/{name}", response_model=RoutingOut, responses=READ_ERRORS)
def get_routing(name: StoredName, state: StateDep, principal: Viewer) -> RoutingOut:
    """A stored routing; `default` answers the built-in one while none is stored."""
    from srekit.store.repo import find_routing, get_routing

    with state.session(read_only=True) as session:
        if name == DEFAULT_ROUTING.name and find_routing(session, name=name) is None:
            return _BUILT_IN
        return _routing_out(get_routing(session, name=name))


@router.put(
    "/{name}",
    response_model=AppliedOut,
    responses={**WRITE_ERRORS, 201: {"model": AppliedOut, "description": "created"}},
)
def put_routing(
    name: NewName,
    body: AlertRoutingDocument,
    state: StateDep,
    principal: Editor,
    response: Response,
) -> AppliedOut:
    """Store the routing (201 when new, 200 otherwise; an equal one changes nothing). The
    document's `metadata.name` must be the name in the path."""
    from srekit.store.repo import apply_routing

    if body.metadata.name != name:
        raise SpecError(
            f"expected {name!r}, the name in the path, got {body.metadata.name!r}",
            field="metadata.name",
        )
    routing = body.to_routing()
    with state.session() as session:
        applied = apply_routing(session, routing=routing, actor=principal.name)
        result = AppliedOut(
            name=name,
            result="created" if applied.created else "updated" if applied.changed else "unchanged",
            version=applied.row.version,
            changes=[] if applied.created else list(applied.diff),
        )
    response.status_code = 201 if applied.created else 200
    return result


@router.delete("/{name}", status_code=204, responses=WRITE_ERRORS)
def delete_routing(name: StoredName, state: StateDep, principal: Editor) -> Response:
    """Delete a stored routing; deleting `default` brings back the built-in one. The audit log
    keeps its last spec."""
    from srekit.store.repo import delete_routing

    with state.session() as session:
        delete_routing(session, name=name, actor=principal.name)
    return Response(status_code=204)
