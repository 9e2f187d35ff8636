"""`/api/v1/oncall`: rotations (srekit/v1 `kind: Rotation`), who is on call, schedules,
fairness, the handoff checklist, and calendar feeds of rotations and people.

Viewers read; editors change rotations. A change takes effect from its `spec.effective_from`
(default: now); one before now is a 422 at that field. The calendar feeds (`calendar.ics`)
also take a viewer token as `?token=`: calendar clients poll a URL and send no headers. Only a
token of the viewer role is taken there, as a URL ends up in clients' settings and logs. A
rotation's feed also opens with a signature as `?sig=` (`srekit oncall calendar-url`): it reads
that rotation's feed and nothing else, so a leaked URL leaks one schedule, not a token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from srekit.api.deps import BearerDep, Editor, Principal, StateDep, Viewer, authenticate
from srekit.api.deps import client_address as _client
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.oncall import (
    RotationAppliedOut,
    RotationDocument,
    RotationOut,
    RotationVersionOut,
)
from srekit.contracts import (
    FairnessOut,
    HandoffOut,
    PersonScheduleOut,
    ScheduleOut,
    WhoOut,
    fairness_document,
    person_schedule_document,
    schedule_document,
    who_document,
)
from srekit.core.access import Role
from srekit.core.instant import format_instant
from srekit.core.oncall import RotationChange, default_calendar_range
from srekit.errors import SpecError
from srekit.spec.rotation import rotation_document
from srekit.store.repo import RotationRow

router = APIRouter(prefix="/api/v1/oncall", tags=["on call"])

_ICS = "text/calendar; charset=utf-8"
From = Annotated[datetime | None, Query(alias="from", description="RFC 3339")]
To = Annotated[datetime | None, Query(alias="to", description="RFC 3339")]
At = Annotated[datetime | None, Query(description="RFC 3339; default: now")]
TokenQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="a viewer token, for calendar clients that cannot send headers",
    ),
]

SignatureQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="the feed's signature (`srekit oncall calendar-url`), instead of a token",
    ),
]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _aware(moment: datetime | None, label: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise SpecError("expected a time zone (Z or +02:00)", file="query", field=label)
    return None if moment is None else moment.astimezone(UTC)


def _range(
    start: datetime | None, end: datetime | None, default: tuple[datetime, datetime]
) -> tuple[datetime, datetime]:
    low, high = _aware(start, "from"), _aware(end, "to")
    return (low or default[0], high or default[1])


def _rotation_out(row: RotationRow) -> RotationOut:
    from srekit.store.repo import rotation_of

    return RotationOut(
        name=row.name,
        team=row.team,
        version=row.version,
        effective_from=format_instant(row.effective_from),
        created_at=format_instant(row.created_at),
        updated_at=format_instant(row.updated_at),
        document=rotation_document(rotation_of(row), effective_from=row.effective_from),
    )


@router.get("/rotations", response_model=list[RotationOut], responses=AUTH_ERRORS)
def list_rotations(
    state: StateDep,
    principal: Viewer,
    team: Annotated[str | None, Query(max_length=200)] = None,
) -> list[RotationOut]:
    from srekit.store.repo import list_rotations

    with state.session(read_only=True) as session:
        return [_rotation_out(row) for row in list_rotations(session, team=team)]


@router.get("/rotations/{name}", response_model=RotationOut, responses=READ_ERRORS)
def get_rotation(name: StoredName, state: StateDep, principal: Viewer) -> RotationOut:
    from srekit.store.repo import get_rotation

    with state.session(read_only=True) as session:
        return _rotation_out(get_rotation(session, name=name))


@router.put(
    "/rotations/{name}",
    response_model=RotationAppliedOut,
    responses={**WRITE_ERRORS, 201: {"model": RotationAppliedOut, "description": "created"}},
)
def put_rotation(
    name: NewName,
    body: RotationDocument,
    state: StateDep,
    principal: Editor,
    response: Response,
) -> RotationAppliedOut:
    """Store the rotation (201 when new; 200 otherwise, an equal one changing nothing), taking
    effect from `spec.effective_from` (default: now; before now is a 422). The document's
    `metadata.name` must be the name in the path."""
    from srekit.flows.oncall import store_rotation

    if body.metadata.name != name:
        raise SpecError(
            f"expected {name!r}, the name in the path, got {body.metadata.name!r}",
            field="metadata.name",
        )
    change = RotationChange(body.to_rotation(), body.spec.effective_from)
    stored = store_rotation(state.engine, change=change, actor=principal.name)
    response.status_code = 201 if stored.result == "created" else 200
    return RotationAppliedOut(
        name=name,
        result=stored.result,
        version=stored.version,
        effective_from=format_instant(stored.effective_from),
        changes=list(stored.changes),
    )


@router.delete("/rotations/{name}", status_code=204, responses=WRITE_ERRORS)
def delete_rotation(name: StoredName, state: StateDep, principal: Editor) -> Response:
    """Delete a rotation and its versions; the audit log keeps its last version."""
    from srekit.store.repo import delete_rotation

    with state.session() as session:
        delete_rotation(session, name=name, actor=principal.name)
    return Response(status_code=204)


@router.get(
    "/rotations/{name}/versions", response_model=list[RotationVersionOut], responses=READ_ERRORS
)
def rotation_versions(
    name: StoredName, state: StateDep, principal: Viewer
) -> list[RotationVersionOut]:
    """Every applied version, first applied first; `ruling` says which still rule."""
    from srekit.core.oncall import ruling_versions
    from srekit.core.rotation import RotationVersion
    from srekit.store.repo import rotation_of, rotation_versions

    with state.session(read_only=True) as session:
        rows = rotation_versions(session, name=name)
        versions = [RotationVersion(rotation_of(row), row.effective_from) for row in rows]
    ruling = {id(version) for version in ruling_versions(versions)}
    return [
        RotationVersionOut(
            version=row.version,
            effective_from=format_instant(row.effective_from),
            created_at=format_instant(row.created_at),
            actor=row.actor,
            ruling=id(version) in ruling,
            document=rotation_document(version.rotation, effective_from=row.effective_from),
        )
        for row, version in zip(rows, versions, strict=True)
    ]


@router.get("/rotations/{name}/who", response_model=WhoOut, responses=READ_ERRORS)
def who(name: StoredName, state: StateDep, principal: Viewer, at: At = None) -> dict[str, Any]:
    """Who holds each layer at `at`: the shift's member and bounds (member null in a gap)."""
    from srekit.flows.oncall import stored_versions, who

    moment = _aware(at, "at") or _now()
    held = who(stored_versions(state.engine, name=name), at=moment)
    return who_document(name, at=moment, held=held)


@router.get("/rotations/{name}/schedule", response_model=ScheduleOut, responses=READ_ERRORS)
def schedule(
    name: StoredName, state: StateDep, principal: Viewer, start: From = None, end: To = None
) -> dict[str, Any]:
    """Every shift from `from` (default: now) to `to` (default: 7 days after `from`), overrides
    applied, and the gaps; at most two years."""
    from datetime import timedelta

    from srekit.flows.oncall import schedule, stored_versions

    low = _aware(start, "from") or _now()
    low, high = _range(low, end, (low, low + timedelta(days=7)))
    shifts = schedule(stored_versions(state.engine, name=name), start=low, end=high)
    return schedule_document(name, start=low, end=high, shifts=shifts)


@router.get("/rotations/{name}/fairness", response_model=FairnessOut, responses=READ_ERRORS)
def fairness(
    name: StoredName, state: StateDep, principal: Viewer, start: From = None, end: To = None
) -> dict[str, Any]:
    """Each member's hours, night and weekend hours (in their own zone) and pages over the
    range (default: the 90 days before now)."""
    from datetime import timedelta

    from srekit.flows.oncall import rotation_fairness, stored_versions

    now = _now()
    low, high = _range(start, end, (now - timedelta(days=90), now))
    loads = rotation_fairness(
        state.engine, stored_versions(state.engine, name=name), start=low, end=high
    )
    return fairness_document(name, start=low, end=high, loads=loads)


@router.get(
    "/rotations/{name}/handoff",
    response_model=HandoffOut,
    responses={
        **READ_ERRORS,
        200: {
            "content": {"text/markdown": {"schema": {"type": "string"}}},
            "description": "the handoff: JSON, or the Markdown checklist with `format=md`",
        },
    },
)
def handoff(
    name: StoredName,
    state: StateDep,
    principal: Viewer,
    at: Annotated[
        str | None,
        Query(max_length=64, description="RFC 3339, from 1970 to now; default: now"),
    ] = None,
    output: Annotated[
        Literal["json", "md"],
        Query(alias="format", description="json, or md (the Markdown checklist)"),
    ] = "json",
) -> Any:
    """Who hands to whom on each layer of the stored rotation at `at`, and what the incoming
    on-call takes over on the services of the rotation's team: what `srekit oncall handoff`
    prints. 404 for an unknown rotation, 422 naming `at` for a bad instant."""
    from srekit.alertmanager import alertmanager_of
    from srekit.core.handoff import handoff_at_problem, handoff_document, render_markdown
    from srekit.core.instant import parse_instant
    from srekit.flows.handoff import handoff_checklist, stored_rotation_versions

    now = _now()
    moment = now
    if at is not None:
        try:
            moment = parse_instant(at)
        except ValueError as error:
            raise SpecError(str(error), file="query", field="at") from None
    problem = handoff_at_problem(moment, now=now)
    if problem is not None:
        raise SpecError(problem, file="query", field="at")
    versions = stored_rotation_versions(state.engine, rotation=name)
    silences = alertmanager_of(state.settings)
    try:
        checklist = handoff_checklist(
            state.engine,
            versions=versions,
            at=moment,
            max_status_age_s=state.settings.gate_max_status_age_s,
            silences=silences,
        )
    finally:
        if silences is not None:
            silences.close()
    if output == "md":
        return Response(render_markdown(checklist), media_type="text/markdown; charset=utf-8")
    return handoff_document(checklist)


@router.get("/people/{name}/schedule", response_model=PersonScheduleOut, responses=READ_ERRORS)
def person_schedule(
    name: StoredName, state: StateDep, principal: Viewer, start: From = None, end: To = None
) -> dict[str, Any]:
    """A person's shifts across every stored rotation (default: the next 30 days)."""
    from datetime import timedelta

    from srekit.flows.oncall import person_shifts

    now = _now()
    low, high = _range(start, end, (now, now + timedelta(days=30)))
    shifts = person_shifts(state.engine, person=name, start=low, end=high)
    return person_schedule_document(name, start=low, end=high, shifts=shifts)


async def _calendar_reader(
    state: StateDep, bearer: BearerDep, request: Request, token: TokenQuery = None
) -> Principal:
    """The caller of a calendar feed: by bearer token, or by a viewer token in `?token=`."""
    if bearer is None and token:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        principal = await authenticate(state, credentials, Role.VIEWER, client=_client(request))
        if principal.role is not Role.VIEWER:
            raise HTTPException(
                403, "only a viewer token may be given as ?token=: URLs end up in logs"
            )
        return principal
    return await authenticate(state, bearer, Role.VIEWER, client=_client(request))


_CALENDAR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    200: {"content": {"text/calendar": {}}, "description": "an RFC 5545 calendar"},
}


def _feed(name: str, shifts: list[tuple[str, Any]]) -> Response:
    from srekit.ical import calendar_feed

    return Response(calendar_feed(name, shifts, now=_now()), media_type=_ICS)


@router.get(
    "/rotations/{name}/calendar.ics", response_class=Response, responses=_CALENDAR_RESPONSES
)
async def rotation_calendar(
    *,
    name: StoredName,
    state: StateDep,
    request: Request,
    bearer: BearerDep,
    start: From = None,
    end: To = None,
    token: TokenQuery = None,
    sig: SignatureQuery = None,
) -> Response:
    """The rotation's shifts as an iCalendar feed (30 days back to 180 ahead by default; at
    most two years), one event per shift."""
    from starlette.concurrency import run_in_threadpool

    from srekit.flows.oncall import calendar_shifts, calendar_signature_matches, stored_versions

    if sig is not None and bearer is None and not token:
        matches = await run_in_threadpool(
            calendar_signature_matches, state.engine, rotation=name, signature=sig
        )
        if not matches:
            raise HTTPException(403, "sig does not sign this rotation's calendar feed")
    else:
        await _calendar_reader(state, bearer, request, token)
    low, high = _range(start, end, default_calendar_range(_now()))

    def build() -> Response:
        versions = stored_versions(state.engine, name=name)
        shifts = calendar_shifts(versions, start=low, end=high)
        return _feed(f"on call: {name}", [(name, shift) for shift in shifts])

    return await run_in_threadpool(build)


@router.get("/people/{name}/calendar.ics", response_class=Response, responses=_CALENDAR_RESPONSES)
async def person_calendar(
    *,
    name: StoredName,
    state: StateDep,
    request: Request,
    bearer: BearerDep,
    start: From = None,
    end: To = None,
    token: TokenQuery = None,
) -> Response:
    """A person's shifts across every stored rotation as an iCalendar feed (404 unless the
    person is stored)."""
    from starlette.concurrency import run_in_threadpool

    from srekit.flows.oncall import person_calendar_shifts

    await _calendar_reader(state, bearer, request, token)
    low, high = _range(start, end, default_calendar_range(_now()))

    def build() -> Response:
        from srekit.store.repo import get_person

        with state.session(read_only=True) as session:
            get_person(session, name=name)
        shifts = person_calendar_shifts(state.engine, person=name, start=low, end=high)
        return _feed(f"on call: {name}", list(shifts))

    return await run_in_threadpool(build)
