"""`/api/v1/incidents` and `/api/v1/tasks`: incidents and their follow-ups.

Anyone may read; an editor runs incidents (declare, acknowledge … close, notes, roles, tasks).
Every change is in the audit log, and the gate sees a P0/P1 opening or closing at once.
Acknowledging with `{"silence": true}` silences the incident's alerts in Alertmanager;
resolving or closing expires its silences (`flows.silences`).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from srekit.api.deps import ApiState, Editor, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.incidents import (
    AcknowledgeIn,
    CloseIn,
    DeclareIn,
    NoteIn,
    RoleIn,
    TaskIn,
    TaskUpdateIn,
    TransitionIn,
)
from srekit.contracts import (
    IncidentChangeOut,
    IncidentDetailOut,
    IncidentOut,
    IncidentStatsOut,
    TaskOut,
    incident_change_document,
    incident_document,
    incident_stats_document,
    task_document,
)
from srekit.core.incident import IncidentRole, IncidentState, Severity, TaskState
from srekit.errors import SpecError, SrekitError
from srekit.sources.factory import close_sources

router = APIRouter(prefix="/api/v1", tags=["incidents"])

IncidentId = Annotated[int, Path(ge=1, le=2**62, description="the incident's number")]
TaskId = Annotated[int, Path(ge=1, le=2**62)]
_TRANSITIONS: dict[str, IncidentState] = {
    "acknowledge": IncidentState.ACKNOWLEDGED,
    "mitigate": IncidentState.MITIGATED,
    "resolve": IncidentState.RESOLVED,
    "close": IncidentState.CLOSED,
    "reopen": IncidentState.TRIGGERED,
}


def _now() -> datetime:
    return datetime.now(UTC)


def _changed(state: ApiState) -> None:
    state.gate.incidents_changed()


@router.get("/incidents", response_model=list[IncidentOut], responses=AUTH_ERRORS)
def list_incidents(
    *,
    state: StateDep,
    principal: Viewer,
    service: Annotated[str | None, Query(max_length=200)] = None,
    incident_state: Annotated[
        Literal["open", "closed", "all", "triggered", "acknowledged", "mitigated", "resolved"],
        Query(alias="state", description="open (default), closed, all, or one state"),
    ] = "open",
    severity: Severity | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """Newest first."""
    from srekit.flows.incidents import list_incident_views

    chosen = (
        incident_state
        if incident_state in {"open", "closed", "all"}
        else IncidentState(incident_state)
    )
    views = list_incident_views(
        state.engine, service=service, state=chosen, severity=severity, limit=limit
    )
    return [incident_document(view) for view in views]


@router.post(
    "/incidents",
    response_model=IncidentDetailOut,
    status_code=201,
    responses=WRITE_ERRORS,
)
def declare(body: DeclareIn, state: StateDep, principal: Editor) -> dict[str, Any]:
    """Declare an incident by hand (201, with its number)."""
    from srekit.flows.incidents import declare_incident

    view = declare_incident(
        state.engine,
        title=body.title,
        severity=body.severity,
        actor=principal.name,
        now=_now(),
        services=body.services,
        slos=body.slos,
        summary=body.summary,
        commander=body.commander,
    )
    _changed(state)
    return incident_document(view, detail=True)


@router.get("/incidents/stats", response_model=IncidentStatsOut, responses=AUTH_ERRORS)
def stats(
    state: StateDep,
    principal: Viewer,
    start: Annotated[
        datetime | None, Query(alias="from", description="RFC 3339; default: 30 days before to")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="RFC 3339; default: now")] = None,
    service: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Per period, service and severity: count, MTTA, MTTR, MTBF, the share meeting its
    response target, and the error budget each incident consumed of its SLOs."""
    from srekit.flows.incident_stats import stored_incident_stats
    from srekit.sources.factory import build_sources

    now = _now()
    for moment, label in ((start, "from"), (end, "to")):
        if moment is not None and moment.tzinfo is None:
            raise SpecError("expected a time zone (Z or +02:00)", file="query", field=label)
    until = end or now + timedelta(seconds=1)  # including incidents opened this second
    since = start or until - timedelta(days=30)
    sources = build_sources(state.settings)
    try:
        figures = stored_incident_stats(
            state.engine,
            sources=sources,
            start=since,
            end=until,
            now=now,
            service=service,
            severities=state.settings.severity_definitions(),
        )
    finally:
        close_sources(sources)
    return incident_stats_document(figures)


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, responses=READ_ERRORS)
def show(incident_id: IncidentId, state: StateDep, principal: Viewer) -> dict[str, Any]:
    """The incident with its timeline, tasks, alerts, related incidents and prior deploys."""
    from srekit.flows.incidents import incident_view

    with suppress(SrekitError):  # the gate's decisions of the last moments are written first
        state.gate.recorder.flush()
    return incident_document(incident_view(state.engine, incident_id=incident_id), detail=True)


@router.post(
    "/incidents/{incident_id}/notes", response_model=IncidentDetailOut, responses=WRITE_ERRORS
)
def note(
    incident_id: IncidentId, body: NoteIn, state: StateDep, principal: Editor
) -> dict[str, Any]:
    from srekit.flows.incidents import note_incident

    view = note_incident(
        state.engine, incident_id=incident_id, text=body.text, actor=principal.name, now=_now()
    )
    return incident_document(view, detail=True)


@router.put(
    "/incidents/{incident_id}/roles/{role}",
    response_model=IncidentDetailOut,
    responses=WRITE_ERRORS,
)
def assign(
    incident_id: IncidentId,
    role: IncidentRole,
    body: RoleIn,
    state: StateDep,
    principal: Editor,
) -> dict[str, Any]:
    """Give a role (commander, scribe, communications) to a person."""
    from srekit.flows.incidents import assign_role

    view = assign_role(
        state.engine,
        incident_id=incident_id,
        role=role,
        person=body.person,
        actor=principal.name,
        now=_now(),
    )
    return incident_document(view, detail=True)


@router.post(
    "/incidents/{incident_id}/tasks",
    response_model=TaskOut,
    status_code=201,
    responses=WRITE_ERRORS,
)
def add_task(
    incident_id: IncidentId, body: TaskIn, state: StateDep, principal: Editor
) -> dict[str, Any]:
    from srekit.flows.incidents import new_task

    task = new_task(
        state.engine,
        incident_id=incident_id,
        title=body.title,
        actor=principal.name,
        now=_now(),
        owner=body.owner,
        due_at=body.due_at,
    )
    return task_document(task)


@router.get("/tasks", response_model=list[TaskOut], responses=AUTH_ERRORS)
def list_tasks(
    state: StateDep,
    principal: Viewer,
    incident: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    task_state: Annotated[TaskState | None, Query(alias="state")] = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    """Follow-up tasks by due date; `overdue=true`: open ones past their due date."""
    from srekit.flows.incidents import list_follow_ups

    tasks = list_follow_ups(
        state.engine,
        incident_id=incident,
        state=task_state,
        overdue_at=_now() if overdue else None,
    )
    return [task_document(task) for task in tasks]


@router.patch("/tasks/{task_id}", response_model=TaskOut, responses=WRITE_ERRORS)
def update_task(
    task_id: TaskId, body: TaskUpdateIn, state: StateDep, principal: Editor
) -> dict[str, Any]:
    from srekit.flows.incidents import change_task

    task = change_task(
        state.engine,
        task_id=task_id,
        actor=principal.name,
        now=_now(),
        state=body.state,
        owner=body.owner,
        due_at=body.due_at,
    )
    return task_document(task)


def _move(
    state: ApiState,
    incident_id: int,
    verb: str,
    principal: str,
    given: TransitionIn,
    *,
    silence: bool = False,
    noise: bool = False,
    noise_reason: str | None = None,
) -> dict[str, Any]:
    from srekit.flows.silences import change_incident

    view, outcome = change_incident(
        state.engine,
        incident_id=incident_id,
        to=_TRANSITIONS[verb],
        actor=principal,
        now=_now(),
        note=given.note,
        postmortem_waived=given.waive_postmortem,
        noise=noise,
        noise_reason=noise_reason,
        silence=silence,
        silencer=state.silencer,
        duration_s=state.settings.silence_duration_s,
    )
    _changed(state)
    return incident_change_document(
        view,
        silence_created=outcome.created,
        silences_expired=outcome.expired,
        silence_failures=outcome.failures,
    )


@router.post(
    "/incidents/{incident_id}/acknowledge",
    response_model=IncidentChangeOut,
    responses=WRITE_ERRORS,
)
def acknowledge(
    incident_id: IncidentId,
    state: StateDep,
    principal: Editor,
    body: AcknowledgeIn | None = None,
) -> dict[str, Any]:
    """Acknowledge the incident; with `{"silence": true}` also silence its firing alerts in
    Alertmanager (one silence on the labels they all share, `alertname` included) until it
    resolves or closes, at most SREKIT_SILENCE_DURATION_S.

    409 when the lifecycle refuses, when no Alertmanager is configured, or when its alerts
    cannot be silenced (nothing is changed then). When Alertmanager fails after the
    acknowledgement is stored, the answer is still 200: `silence_failures` says what failed.
    """
    given = body or AcknowledgeIn()
    return _move(state, incident_id, "acknowledge", principal.name, given, silence=given.silence)


@router.post(
    "/incidents/{incident_id}/close",
    response_model=IncidentChangeOut,
    responses=WRITE_ERRORS,
)
def close(
    incident_id: IncidentId,
    state: StateDep,
    principal: Editor,
    body: CloseIn | None = None,
) -> dict[str, Any]:
    """Close a resolved incident: its post-mortem is published, or `waive_postmortem` gives a
    reason, or `{"noise": true}` marks it a false alarm (`reason` says why), which needs no
    post-mortem and counts its alerts as false positives in `GET /api/v1/alerts/report`.
    Closing expires the Alertmanager silences it holds, as resolving does. 409 when the
    lifecycle does not allow it; 422 for a `reason` without `noise`."""
    given = body or CloseIn()
    return _move(
        state,
        incident_id,
        "close",
        principal.name,
        given,
        noise=given.noise,
        noise_reason=given.reason,
    )


# after the routes under /incidents/{id}/ with fixed names, which it would otherwise take
@router.post(
    "/incidents/{incident_id}/{verb}",
    response_model=IncidentChangeOut,
    responses=WRITE_ERRORS,
)
def transition(
    incident_id: IncidentId,
    verb: Literal["mitigate", "resolve", "reopen"],
    state: StateDep,
    principal: Editor,
    body: TransitionIn | None = None,
) -> dict[str, Any]:
    """Move the incident through its lifecycle; 409 when the lifecycle does not allow it.
    Resolving expires the Alertmanager silences it holds (`silences_expired`; what failed in
    `silence_failures`, the move stored all the same)."""
    return _move(state, incident_id, verb, principal.name, body or TransitionIn())
