"""`/api/v1/slos`: stored SLO specs (every version kept), their latest status and history.

A spec is written either in srekit's JSON schema (`SloSpec`) or as a spec document in any
format `srekit slo apply` reads (srekit/v1, OpenSLO v1, Sloth); `POST /api/v1/slos` applies
several documents at once, all or nothing. Documents that define policies need an admin token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse

from srekit.api.deps import ApiState, Editor, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.slos import (
    AppliedOut,
    ApplyOut,
    SloOut,
    SloSummaryOut,
    SloVersionOut,
    SloWrite,
    SpecDocumentsIn,
)
from srekit.contracts import StatusOut, status_document
from srekit.core.access import Role
from srekit.core.instant import format_instant
from srekit.core.slo import SLO
from srekit.core.status import SloStatus
from srekit.errors import SpecError
from srekit.store import StoreSession

if TYPE_CHECKING:
    from srekit.store.repo import Applied, SloRow

router = APIRouter(prefix="/api/v1/slos", tags=["slos"])
_API_SCHEMA = "srekit/json"  # source_format of specs written in SloSpec


def _outcome(applied: Applied[Any]) -> Literal["created", "updated", "unchanged"]:
    if not applied.changed:
        return "unchanged"
    return "created" if applied.created else "updated"


def _applied_out(name: str, applied: Applied[Any], version: int) -> AppliedOut:
    return AppliedOut(
        name=name,
        result=_outcome(applied),
        version=version,
        changes=[] if applied.created else list(applied.diff),
    )


def _summary(row: SloRow) -> SloSummaryOut:
    from srekit.core.window import window_label

    return SloSummaryOut(
        service=row.service.name,
        slo=row.name,
        team=row.service.team.name if row.service.team else None,
        objective=float(row.spec()["objective"]),
        window=window_label(row.to_slo().window),
        version=row.version,
        source_format=row.source_format,
        updated_at=format_instant(row.updated_at),
    )


def _check_policies(
    session: StoreSession, slos: Sequence[SLO], defined: Sequence[str], *, file: str | None = None
) -> None:
    """Every policy an SLO names must be defined alongside or stored already."""
    from srekit.store.repo import list_policies

    known = {"default", *defined, *(row.name for row in list_policies(session))}
    for slo in slos:
        if slo.policy and slo.policy not in known:
            raise SpecError(
                f"names policy {slo.policy!r}, which is neither stored nor defined"
                f" (known: {', '.join(sorted(known))})",
                file=file or slo.source_file,
                field="policy",
            )


@router.get("", response_model=list[SloSummaryOut], responses=AUTH_ERRORS)
def list_slos(
    state: StateDep,
    principal: Viewer,
    service: Annotated[str | None, Query(max_length=200, description="only this service")] = None,
) -> list[SloSummaryOut]:
    from srekit.store.repo import list_slos

    with state.session(read_only=True) as session:
        return [_summary(row) for row in list_slos(session, service=service)]


@router.post("", response_model=ApplyOut, responses=WRITE_ERRORS)
def apply_documents(body: SpecDocumentsIn, state: StateDep, principal: Editor) -> ApplyOut:
    """Apply spec documents as `srekit slo apply` applies files: each SLO and policy is
    created, updated (a new version) or unchanged, in one transaction."""
    from srekit.api.specs import check_owners, parse_documents
    from srekit.flows.validate import check_slos
    from srekit.store.repo import apply_policy, apply_slo

    specs, formats = parse_documents(body.documents)
    check_slos(specs.slos)
    if specs.policies and not principal.may(Role.ADMIN):
        raise HTTPException(403, "the documents define policies: changing policies needs admin")
    check_owners(specs.slos)
    with state.session() as session:
        _check_policies(session, specs.slos, list(specs.policies))
        policies = [
            _applied_out(name, applied, applied.row.version)
            for name, policy in specs.policies.items()
            for applied in [apply_policy(session, policy=policy, actor=principal.name)]
        ]
        slos = []
        for slo in specs.slos:
            applied = apply_slo(
                session,
                slo=replace(slo, source_file=None),
                actor=principal.name,
                source_format=formats.get(slo.source_file or ""),
            )
            slos.append(_applied_out(applied.row.key, applied, applied.row.version))
    state.gate.invalidate()
    return ApplyOut(actor=principal.name, slos=slos, policies=policies)


@router.get("/{service}/{name}", response_model=SloOut, responses=READ_ERRORS)
def get_slo(service: StoredName, name: StoredName, state: StateDep, principal: Viewer) -> SloOut:
    """The current spec and every version applied, oldest first."""
    from srekit.store.repo import get_slo, readable_spec, slo_versions

    with state.session(read_only=True) as session:
        row = get_slo(session, service=service, name=name)
        spec = readable_spec(row)
        return SloOut(
            service=row.service.name,
            slo=row.name,
            team=row.service.team.name if row.service.team else None,
            version=row.version,
            source_format=row.source_format,
            source_file=row.source_file,
            created_at=format_instant(row.created_at),
            updated_at=format_instant(row.updated_at),
            spec=spec,
            versions=[
                SloVersionOut(
                    version=v.version,
                    applied_at=format_instant(v.applied_at),
                    applied_by=v.applied_by,
                    source_format=v.source_format,
                    source_file=v.source_file,
                    changes=list(v.changes),
                    spec=v.spec(),
                )
                for v in slo_versions(session, service=service, name=name)
            ],
        )


def _slo_from_body(service: str, name: str, body: SloWrite) -> tuple[SLO, str]:
    from srekit.api.specs import parse_documents
    from srekit.flows.validate import check_slos

    if body.spec is not None:
        try:
            slo = body.spec.to_slo(service=service, name=name)
            check_slos([slo])
        except SpecError as error:
            raise SpecError(error.detail, file="spec", field=error.field) from error
        return slo, _API_SCHEMA
    assert body.document is not None  # SloWrite guarantees one of the two
    specs, formats = parse_documents([body.document], label="document")
    if specs.policies:
        raise SpecError(
            "defines a policy: PUT /api/v1/policies/{name} stores policies", file="document"
        )
    found = [f"{slo.service}/{slo.name}" for slo in specs.slos]
    if found != [f"{service}/{name}"]:
        raise SpecError(
            f"expected the document to define exactly the SLO {service}/{name}, it defines"
            f" {', '.join(found) or 'none'} (POST /api/v1/slos applies several)",
            file="document",
        )
    check_slos(specs.slos)
    return replace(specs.slos[0], source_file=None), formats["document"]


@router.put(
    "/{service}/{name}",
    response_model=AppliedOut,
    responses={**WRITE_ERRORS, 201: {"model": AppliedOut, "description": "created"}},
)
def put_slo(
    *,
    service: NewName,
    name: NewName,
    body: SloWrite,
    state: StateDep,
    principal: Editor,
    response: Response,
) -> AppliedOut:
    """Store a version of the SLO (201 when new); an equal spec changes nothing (200)."""
    from srekit.store.repo import apply_slo

    slo, source_format = _slo_from_body(service, name, body)
    with state.session() as session:
        _check_policies(session, [slo], [], file="spec" if body.spec else "document")
        applied = apply_slo(session, slo=slo, actor=principal.name, source_format=source_format)
        document = _applied_out(applied.row.key, applied, applied.row.version)
    state.gate.invalidate()
    response.status_code = 201 if applied.created else 200
    return document


@router.delete("/{service}/{name}", status_code=204, responses=WRITE_ERRORS)
def delete_slo(
    service: StoredName, name: StoredName, state: StateDep, principal: Editor
) -> Response:
    """Delete the SLO and its versions; the audit log keeps its last spec."""
    from srekit.store.repo import delete_slo

    with state.session() as session:
        delete_slo(session, service=service, name=name, actor=principal.name)
    state.gate.invalidate()
    return Response(status_code=204)


@router.get(
    "/{service}/{name}/status",
    response_model=StatusOut,
    response_class=JSONResponse,
    responses=READ_ERRORS,
)
async def slo_status(
    service: StoredName, name: StoredName, state: StateDep, principal: Viewer
) -> JSONResponse:
    """The SLO's latest status (from the evaluator's memory when this server runs one)."""
    from starlette.concurrency import run_in_threadpool

    from srekit.api.statuses import latest_statuses

    for status in await latest_statuses(state, service):
        if status.slo == name:
            return JSONResponse(status_document(status))
    unevaluated = await run_in_threadpool(_unevaluated, state, service, name)
    return JSONResponse(status_document(unevaluated))


def _unevaluated(state: ApiState, service: str, name: str) -> SloStatus:
    """A stored SLO no evaluation has reached yet (NotFound when it is not stored)."""
    from srekit.core.status import NOT_EVALUATED, unavailable_status
    from srekit.store.repo import get_slo

    with state.session(read_only=True) as session:
        slo = get_slo(session, service=service, name=name).to_slo()
    return unavailable_status(slo, at=datetime.now(UTC), detail=NOT_EVALUATED)


@router.get(
    "/{service}/{name}/snapshots",
    response_model=list[StatusOut],
    response_class=JSONResponse,
    responses=READ_ERRORS,
)
def slo_snapshots(
    *,
    service: StoredName,
    name: StoredName,
    state: StateDep,
    principal: Viewer,
    since: Annotated[datetime | None, Query(description="RFC 3339; from this time on")] = None,
    until: Annotated[datetime | None, Query(description="RFC 3339; up to this time")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="the newest this many")] = 1000,
) -> JSONResponse:
    """The SLO's raw snapshots (evaluated statuses) in [since, until], oldest first: kept for
    SREKIT_HISTORY_RAW_S; `/history` charts longer ranges from hourly rollups."""
    from srekit.store.repo import slo_history

    for moment, label in ((since, "since"), (until, "until")):
        if moment is not None and moment.tzinfo is None:
            raise SpecError("expected a time zone (Z or +02:00)", file="query", field=label)
    with state.session(read_only=True) as session:
        rows = slo_history(
            session, service=service, name=name, since=since, until=until, limit=limit
        )
        return JSONResponse([status_document(row.to_status()) for row in rows])
