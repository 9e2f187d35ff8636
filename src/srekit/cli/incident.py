"""`srekit incident …` and `srekit task …`: run incidents from the terminal (their alerts:
`srekit alert …`, in cli/alert.py).

Changes go to the state store (SREKIT_HOME or SREKIT_DATABASE_URL), each in the audit log under
`--actor` (default: the OS user). Reads also work against a running srekit with `--server`.
A change the lifecycle refuses (acknowledging a resolved incident, say) exits 2 saying what
it allows. `ack --silence` silences the incident's alerts in the Alertmanager at
SREKIT_ALERTMANAGER_URL, and `resolve` and `close` expire its silences there: a change stored
while Alertmanager failed exits 3, saying what failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    ActorOption,
    FormatOption,
    OutputFormat,
    PrometheusOption,
    abort,
    console,
    emit,
    error_console,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.remote import ServerOption, server_get, server_object, server_rows
from srekit.cli.store_common import actor_or_user, open_engine
from srekit.core.incident import IncidentRole, IncidentState, Severity, TaskState

if TYPE_CHECKING:
    from srekit.store import StoreEngine
    from srekit.store.repo import StateFilter

__all__ = ["app", "task_app"]

app = SrekitTyper(
    help="Incidents: declare, acknowledge, mitigate, resolve, close; notes, roles, tasks.",
    epilog=examples(
        "srekit incident list",
        'srekit incident declare "checkout errors" --severity P1 --service checkout',
        "srekit incident show 1",
    ),
    no_args_is_help=True,
)
task_app = SrekitTyper(
    help="Follow-up tasks of incidents and post-mortems.",
    epilog=examples("srekit task list --overdue", "srekit task done 1"),
    no_args_is_help=True,
)

IncidentArgument = Annotated[int, typer.Argument(metavar="INCIDENT", help="its number")]
NoteOption = Annotated[
    str | None, typer.Option("--note", metavar="TEXT", help="a note for the timeline")
]
_SEVERITIES = ", ".join(s.value for s in Severity)
_INCIDENT_FIELDS = frozenset({"id", "title", "severity", "state", "services", "opened_at"})


def _severity(value: str) -> Severity:
    try:
        return Severity(value.upper())
    except ValueError:
        raise typer.BadParameter(f"expected one of {_SEVERITIES}, got {value!r}") from None


@contextmanager
def _engine(ctx: typer.Context) -> Iterator[StoreEngine]:
    from srekit.cli.context import settings_of

    with errors_to_exit_codes(), open_engine(settings_of(ctx)) as engine:
        yield engine


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC).replace(microsecond=0)


# --- output -------------------------------------------------------------------------------------


def _age(document: dict[str, Any]) -> str:
    from srekit.core.instant import format_age, parse_instant

    end = document.get("resolved_at") or None
    start = parse_instant(document["opened_at"])
    return format_age((parse_instant(end) if end else _now()) - start)


def _print_list(documents: list[dict[str, Any]]) -> None:
    if not documents:
        console.print("no incidents match")
        return
    table = plain_table("id", "sev", "state", "opened", "for", "services", "title", fold="title")
    for document in documents:
        table.add_row(
            str(document["id"]),
            document["severity"],
            document["state"],
            document["opened_at"],
            _age(document),
            ",".join(document["services"]) or "-",
            document["title"],
        )
    console.print(table)


def _print_incident(document: dict[str, Any]) -> None:
    from rich.markup import escape

    console.print(
        f"[bold]#{document['id']} {document['severity']} {escape(document['title'])}[/]",
        highlight=False,
    )
    facts = plain_table("", "", fold="")
    facts.show_header = False
    rows = [
        ("state", document["state"]),
        ("services", ", ".join(document["services"]) or "-"),
        ("slos", ", ".join(document["slos"]) or "-"),
        ("opened", document["opened_at"]),
        ("acknowledged", document["acknowledged_at"] or "-"),
        ("mitigated", document["mitigated_at"] or "-"),
        ("resolved", document["resolved_at"] or "-"),
        ("closed", document["closed_at"] or "-"),
        ("roles", ", ".join(f"{k}: {v}" for k, v in document["roles"].items()) or "-"),
        ("alerts", ", ".join(document["alerts"]) or "-"),
        ("silences", ", ".join(document["silences"]) or "-"),
    ]
    if document.get("summary"):
        rows.insert(0, ("summary", document["summary"]))
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)
    if document.get("timeline"):
        console.print("\n[bold]timeline[/]")
        timeline = plain_table("at", "kind", "who", "what", fold="what")
        for entry in document["timeline"]:
            timeline.add_row(entry["at"], entry["kind"], entry["actor"], entry["text"])
        console.print(timeline)
    if document.get("tasks"):
        console.print("\n[bold]tasks[/]")
        _print_tasks(document["tasks"])
    if document.get("deployments"):
        console.print("\n[bold]deploys in the 24 h before[/]")
        deploys = plain_table("at", "service", "version", "change", "allowed")
        for deploy in document["deployments"]:
            deploys.add_row(
                deploy["requested_at"],
                deploy["service"],
                deploy["version"] or "-",
                deploy["change_type"],
                "yes" if deploy["allowed"] else "no",
            )
        console.print(deploys)
    if document.get("related"):
        console.print("\n[bold]related earlier incidents[/]")
        for related in document["related"]:
            console.print(f"#{related['id']} {escape(related['title'])}", highlight=False)


def _print_tasks(tasks: list[dict[str, Any]]) -> None:
    if not tasks:
        console.print("no tasks match")
        return
    table = plain_table("id", "incident", "state", "due", "owner", "title", fold="title")
    for task in tasks:
        table.add_row(
            str(task["id"]),
            f"#{task['incident']}",
            task["state"],
            task["due_at"] or "-",
            task["owner"] or "-",
            task["title"],
        )
    console.print(table)


def _show(document: dict[str, Any], output: OutputFormat) -> None:
    if output is OutputFormat.TABLE:
        _print_incident(document)
    else:
        emit(document, output)


# --- reading ------------------------------------------------------------------------------------


@app.command(
    "list",
    epilog=examples(
        "srekit incident list",
        "srekit incident list --state all --service checkout",
        "srekit incident list --severity P1 --format json",
    ),
)
def list_command(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option(metavar="NAME", help="only this service")] = None,
    state: Annotated[
        str,
        typer.Option(
            metavar="STATE",
            help="open (default), closed, all, or one state: triggered, acknowledged, ...",
        ),
    ] = "open",
    severity: Annotated[
        Severity | None,
        typer.Option(metavar="SEV", parser=_severity, help=f"only this severity: {_SEVERITIES}"),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, help="at most N, newest first")] = 100,
    output: FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """List incidents, newest first (open ones unless --state says otherwise)."""
    from srekit.contracts import incident_document
    from srekit.flows.incidents import list_incident_views

    chosen = state.lower()
    allowed = {"open", "closed", "all", *(s.value for s in IncidentState)}
    if chosen not in allowed:
        abort(f"--state: expected one of {', '.join(sorted(allowed))}, got {state!r}")
    sev = severity
    if server:
        params = {"state": chosen, "limit": str(limit)}
        params.update({"service": service} if service else {})
        params.update({"severity": sev.value} if sev else {})
        documents = server_rows(server, "/api/v1/incidents", params, _INCIDENT_FIELDS)
    else:
        with _engine(ctx) as engine:
            views = list_incident_views(
                engine,
                service=service,
                state=_state_filter(chosen),
                severity=sev,
                limit=limit,
            )
            documents = [incident_document(view) for view in views]
    if output is OutputFormat.TABLE:
        _print_list(documents)
    else:
        emit(documents, output)


def _state_filter(chosen: str) -> StateFilter:
    if chosen == "open":
        return "open"
    if chosen == "closed":
        return "closed"
    if chosen == "all":
        return "all"
    return IncidentState(chosen)


@app.command(
    "show",
    epilog=examples("srekit incident show 1", "srekit incident show 1 --format json"),
)
def show_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    output: FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """Show an incident: its instants, roles, timeline, tasks, alerts, the deploys on its
    services in the 24 h before it, and earlier related incidents."""
    from srekit.contracts import incident_document
    from srekit.flows.incidents import incident_view

    if server:
        document = server_object(server, f"/api/v1/incidents/{incident}", _INCIDENT_FIELDS)
    else:
        with _engine(ctx) as engine:
            document = incident_document(incident_view(engine, incident_id=incident), detail=True)
    _show(document, output)


@app.command(
    "stats",
    epilog=examples(
        "srekit incident stats",
        "srekit incident stats --from 2026-11-01T00:00:00Z",
        "srekit incident stats --service checkout --format json",
    ),
)
def stats_command(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="TIME", help="period start, RFC 3339 (default: to − 30d)"),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="TIME", help="period end (default: now)")
    ] = None,
    service: Annotated[str | None, typer.Option(metavar="NAME", help="only this service")] = None,
    prometheus_url: PrometheusOption = None,
    output: FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """Incident figures of a period: count, MTTA, MTTR, MTBF and the share of incidents that
    met their response target, per severity and service, and the error budget each incident
    consumed of its SLOs (from the SLOs' own sources)."""
    from datetime import timedelta

    from srekit.contracts import incident_stats_document
    from srekit.flows.incident_stats import stored_incident_stats
    from srekit.sources.factory import build_sources, close_sources

    now = _now()
    # up to and including the current second, when the incidents just declared opened
    until = _checked_instant("--to", end) or now + timedelta(seconds=1)
    since = _checked_instant("--from", start) or until - timedelta(days=30)
    if until <= since:
        abort(f"--to: the period must end after it starts ({start} … {end})")
    if server:
        params = {"from": _iso(since), "to": _iso(until)}
        params.update({"service": service} if service else {})
        fields = frozenset({"start", "end", "overall", "by_severity", "by_service", "budgets"})
        answer = server_get(server, "/api/v1/incidents/stats", params)
        missing = fields - set(answer) if isinstance(answer, dict) else fields
        if missing:
            abort(f"srekit at {server} answered without {', '.join(sorted(missing))}", 3)
        document = dict(answer)
    else:
        from srekit.cli.context import settings_of

        with _engine(ctx) as engine:
            sources = build_sources(
                settings_of(ctx), prometheus_url=prometheus_url, name_paths=True
            )
            try:
                figures = stored_incident_stats(
                    engine,
                    sources=sources,
                    start=since,
                    end=until,
                    now=now,
                    service=service,
                    severities=settings_of(ctx).severity_definitions(),
                )
            finally:
                close_sources(sources)
        document = incident_stats_document(figures)
    if output is OutputFormat.TABLE:
        _print_stats(document)
    else:
        emit(document, output)


def _iso(moment: datetime) -> str:
    from srekit.core.instant import format_instant

    return format_instant(moment)


def _duration(seconds: float | None) -> str:
    from datetime import timedelta

    from srekit.core.instant import format_age

    return "-" if seconds is None else format_age(timedelta(seconds=seconds))


def _print_stats(document: dict[str, Any]) -> None:
    from srekit.cli.options import percent

    console.print(f"incidents opened {document['start']} … {document['end']}", highlight=False)
    table = plain_table("group", "count", "open", "MTTA", "MTTR", "MTBF", "met target")
    groups = [("all", document["overall"])]
    groups += [(severity, f) for severity, f in document["by_severity"].items()]
    groups += [(service, f) for service, f in document["by_service"].items()]
    for name, figures in groups:
        share = figures["response_share"]
        judged = figures["response_met"] + figures["response_missed"]
        table.add_row(
            name,
            str(figures["count"]),
            str(figures["open"]),
            _duration(figures["mtta_s"]),
            _duration(figures["mttr_s"]),
            _duration(figures["mtbf_s"]),
            "-" if share is None else f"{percent(share)} of {judged}",
        )
    console.print(table)
    if document["budgets"]:
        console.print("\n[bold]error budget consumed[/]")
        budgets = plain_table(
            "incident", "slo", "consumed", "bad events", "why unknown", fold="why unknown"
        )
        for budget in document["budgets"]:
            consumed = budget["consumed"]
            budgets.add_row(
                f"#{budget['incident_id']}",
                budget["slo"],
                "-" if consumed is None else percent(consumed),
                "-" if budget["bad_events"] is None else f"{budget['bad_events']:,}",
                budget["reason"] or "",
            )
        console.print(budgets)


# --- changing -----------------------------------------------------------------------------------


@app.command(
    "declare",
    epilog=examples(
        'srekit incident declare "checkout errors" --severity P1 --service checkout',
        'srekit incident declare "slow search" --severity P3 --commander ana',
    ),
)
def declare_command(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(metavar="TITLE", help="what is wrong, in a line")],
    severity: Annotated[
        Severity,
        typer.Option(
            metavar="SEV",
            parser=_severity,
            help=f"{_SEVERITIES}: P0 all hands … P3 a ticket",
        ),
    ],
    service: Annotated[
        list[str] | None,
        typer.Option("--service", metavar="NAME", help="an affected service (repeatable)"),
    ] = None,
    slo: Annotated[
        list[str] | None,
        typer.Option("--slo", metavar="SERVICE/SLO", help="an affected SLO (repeatable)"),
    ] = None,
    summary: Annotated[str | None, typer.Option(metavar="TEXT", help="what is known")] = None,
    commander: Annotated[
        str | None, typer.Option(metavar="NAME", help="the incident commander")
    ] = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Declare an incident by hand; prints it with its number."""
    from srekit.contracts import incident_document
    from srekit.core.names import name_problem
    from srekit.flows.incidents import declare_incident

    for name in service or []:
        problem = name_problem(name)
        if problem:
            abort(f"--service: {problem}")
    for key in slo or []:
        if key.count("/") != 1 or any(name_problem(part) for part in key.split("/")):
            abort(f"--slo: expected SERVICE/SLO like checkout/availability, got {key!r}")
    if len(title) > 400 or not title.strip() or not title.isprintable():
        abort("TITLE: expected one printable line of at most 400 characters")
    with _engine(ctx) as engine:
        view = declare_incident(
            engine,
            title=title,
            severity=severity,
            actor=actor_or_user(actor),
            now=_now(),
            services=service or [],
            slos=slo or [],
            summary=summary,
            commander=commander,
        )
    _show(incident_document(view, detail=True), output)


def _transition(to: IncidentState) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        incident: IncidentArgument,
        note: NoteOption = None,
        actor: ActorOption = None,
        output: FormatOption = OutputFormat.TABLE,
    ) -> None:
        _move(ctx, incident, to=to, note=note, actor=actor, output=output)

    return command


def _move(
    ctx: typer.Context,
    incident: int,
    *,
    to: IncidentState,
    note: str | None,
    actor: str | None,
    output: OutputFormat,
    waived: str | None = None,
    silence: bool = False,
    noise: bool = False,
    noise_reason: str | None = None,
) -> None:
    """Move the incident, with its silences (`flows.silences.change_incident`); exit 3 when
    the move is stored but Alertmanager failed."""
    from srekit.alertmanager import alertmanager_of
    from srekit.cli.context import settings_of
    from srekit.contracts import incident_change_document
    from srekit.flows.silences import change_incident

    settings = settings_of(ctx)
    with _engine(ctx) as engine:
        silencer = alertmanager_of(settings)
        try:
            view, outcome = change_incident(
                engine,
                incident_id=incident,
                to=to,
                actor=actor_or_user(actor),
                now=_now(),
                note=note,
                postmortem_waived=waived,
                noise=noise,
                noise_reason=noise_reason,
                silence=silence,
                silencer=silencer,
                duration_s=settings.silence_duration_s,
            )
        finally:
            if silencer is not None:
                silencer.close()
    document = incident_change_document(
        view,
        silence_created=outcome.created,
        silences_expired=outcome.expired,
        silence_failures=outcome.failures,
    )
    if output is OutputFormat.TABLE:
        _print_incident(document)
        if outcome.created:
            console.print(f"\nsilenced in Alertmanager: silence {outcome.created}", highlight=False)
        for expired in outcome.expired:
            console.print(f"\nexpired silence {expired} in Alertmanager", highlight=False)
    else:
        emit(document, output)
    if outcome.failures:
        from rich.markup import escape

        for failure in outcome.failures:
            error_console.print(f"[bold red]error:[/] {escape(failure)}", highlight=False)
        raise typer.Exit(3)


@app.command(
    "ack",
    epilog=examples("srekit incident ack 1"),
)
def ack_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    silence: Annotated[
        bool,
        typer.Option(
            "--silence",
            help="also silence its firing alerts in Alertmanager (SREKIT_ALERTMANAGER_URL) until"
            " it resolves or closes; exit 3 when it is acknowledged but the silence failed",
        ),
    ] = False,
    note: NoteOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Acknowledge an incident: someone is on it."""
    _move(
        ctx,
        incident,
        to=IncidentState.ACKNOWLEDGED,
        note=note,
        actor=actor,
        output=output,
        silence=silence,
    )


for _verb, _state, _help, _examples in (
    (
        "mitigate",
        IncidentState.MITIGATED,
        "Mark an incident mitigated: the impact has stopped.",
        ('srekit incident mitigate 1 --note "rolled back"',),
    ),
    (
        "resolve",
        IncidentState.RESOLVED,
        "Resolve an incident: the cause is dealt with (its Alertmanager silences are expired).",
        ("srekit incident resolve 1", 'srekit incident resolve 2 --note "index rebuilt"'),
    ),
):
    app.command(
        _verb,
        help=_help,
        epilog=examples(*_examples),
    )(_transition(_state))


@app.command(
    "close",
    epilog=examples(
        "srekit incident close 1",
        'srekit incident close 2 --noise --reason "the probe flapped"',
    ),
)
def close_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    waive_postmortem: Annotated[
        str | None,
        typer.Option(
            metavar="REASON", help="close without a published post-mortem, for this reason"
        ),
    ] = None,
    noise: Annotated[
        bool,
        typer.Option(
            "--noise",
            help="mark it a false alarm: its alerts count as false positives in srekit alerts"
            " report (no post-mortem needed)",
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="why it was noise (with --noise), for the timeline"),
    ] = None,
    note: NoteOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Close a resolved incident: its post-mortem is published (srekit postmortem publish),
    or, while none is, waived with a reason, or the incident was noise (--noise)."""
    if reason is not None and not noise:
        abort("--reason: give it with --noise (why the incident was noise)")
    if reason is not None and (len(reason) > 400 or not reason.strip() or not reason.isprintable()):
        abort("--reason: expected one printable line of at most 400 characters")
    _move(
        ctx,
        incident,
        to=IncidentState.CLOSED,
        note=note,
        actor=actor,
        output=output,
        waived=waive_postmortem,
        noise=noise,
        noise_reason=reason,
    )


app.command(
    "reopen",
    help="Reopen a resolved or closed incident.",
    epilog=examples("srekit incident reopen 1"),
)(_transition(IncidentState.TRIGGERED))


@app.command("note", epilog=examples('srekit incident note 1 "rolled back v1.4.2"'))
def note_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="the note")],
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Add a note to an incident's timeline."""
    from srekit.contracts import incident_document
    from srekit.flows.incidents import note_incident

    with _engine(ctx) as engine:
        view = note_incident(
            engine, incident_id=incident, text=text, actor=actor_or_user(actor), now=_now()
        )
    _show(incident_document(view, detail=True), output)


def _role(value: str) -> IncidentRole:
    try:
        return IncidentRole(value.lower())
    except ValueError:
        roles = ", ".join(r.value for r in IncidentRole)
        raise typer.BadParameter(f"expected one of {roles}, got {value!r}") from None


@app.command(
    "assign",
    epilog=examples(
        "srekit incident assign 1 --role commander --person ana",
        "srekit incident assign 1 --role scribe --person bo",
    ),
)
def assign_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    role: Annotated[
        IncidentRole,
        typer.Option(metavar="ROLE", parser=_role, help="commander, scribe or communications"),
    ],
    person: Annotated[str, typer.Option(metavar="NAME", help="who takes the role")],
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Give an incident role to a person."""
    from srekit.contracts import incident_document
    from srekit.flows.incidents import assign_role

    with _engine(ctx) as engine:
        view = assign_role(
            engine,
            incident_id=incident,
            role=role,
            person=person,
            actor=actor_or_user(actor),
            now=_now(),
        )
    _show(incident_document(view, detail=True), output)


@app.command(
    "task",
    epilog=examples(
        'srekit incident task 1 "add a client timeout" --owner bo',
        'srekit incident task 1 "load-test the fix" --due 2031-01-01T00:00:00Z',
    ),
)
def task_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    title: Annotated[str, typer.Argument(metavar="TITLE", help="what is to be done")],
    owner: Annotated[str | None, typer.Option(metavar="NAME", help="who does it")] = None,
    due: Annotated[
        str | None, typer.Option(metavar="TIME", help="when it is due (RFC 3339)")
    ] = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Add a follow-up task to an incident."""
    from srekit.contracts import task_document
    from srekit.flows.incidents import new_task

    due_at = _checked_instant("--due", due)
    with _engine(ctx) as engine:
        task = new_task(
            engine,
            incident_id=incident,
            title=title,
            actor=actor_or_user(actor),
            now=_now(),
            owner=owner,
            due_at=due_at,
        )
    document = task_document(task)
    if output is OutputFormat.TABLE:
        _print_tasks([document])
    else:
        emit(document, output)


def _checked_instant(option: str, value: str | None) -> datetime | None:
    from srekit.core.instant import parse_instant

    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        abort(f"{option}: {error}")


# --- srekit task ----------------------------------------------------------------------------


@task_app.command(
    "list",
    epilog=examples("srekit task list --overdue", "srekit task list --incident 1 --format json"),
)
def task_list_command(
    ctx: typer.Context,
    incident: Annotated[
        int | None, typer.Option(metavar="N", min=1, help="only this incident's")
    ] = None,
    overdue: Annotated[bool, typer.Option(help="only open tasks past their due date")] = False,
    output: FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """List follow-up tasks by due date; --overdue exits 1 when any is overdue."""
    from srekit.contracts import task_document
    from srekit.flows.incidents import list_follow_ups

    if server:
        params = {"overdue": "true" if overdue else "false"}
        params.update({"incident": str(incident)} if incident else {})
        fields = frozenset({"id", "incident", "title", "state", "due_at", "owner"})
        documents = server_rows(server, "/api/v1/tasks", params, fields)
    else:
        with _engine(ctx) as engine:
            tasks = list_follow_ups(
                engine, incident_id=incident, overdue_at=_now() if overdue else None
            )
        documents = [task_document(task) for task in tasks]
    if output is OutputFormat.TABLE:
        _print_tasks(documents)
    else:
        emit(documents, output)
    if overdue and documents:
        raise typer.Exit(1)


def _set_task(ctx: typer.Context, task: int, *, state: TaskState, actor: str | None) -> None:
    from srekit.contracts import task_document
    from srekit.flows.incidents import change_task

    with _engine(ctx) as engine:
        changed = change_task(
            engine, task_id=task, actor=actor_or_user(actor), now=_now(), state=state
        )
    _print_tasks([task_document(changed)])


TaskArgument = Annotated[int, typer.Argument(metavar="TASK", help="the task number")]


@task_app.command("done", epilog=examples("srekit task done 1"))
def task_done_command(ctx: typer.Context, task: TaskArgument, actor: ActorOption = None) -> None:
    """Mark a task done."""
    _set_task(ctx, task, state=TaskState.DONE, actor=actor)


@task_app.command("cancel", epilog=examples("srekit task cancel 2"))
def task_cancel_command(ctx: typer.Context, task: TaskArgument, actor: ActorOption = None) -> None:
    """Cancel a task that will not be done."""
    _set_task(ctx, task, state=TaskState.CANCELLED, actor=actor)
