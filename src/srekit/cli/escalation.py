"""`srekit oncall escalation list|show`: where incidents' escalations are, read from the state
store. The policies themselves are srekit/v1 documents: `srekit apply -f` stores them and
`srekit get escalationpolicies` shows them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    FormatOption,
    OutputFormat,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.store_common import open_engine

__all__ = ["app"]

app = SrekitTyper(
    help="Escalations: which step each incident's escalation is at, and what comes next.",
    epilog=examples(
        "srekit oncall escalation list --state active",
        "srekit oncall escalation show 1",
    ),
    no_args_is_help=True,
)

_STATES = ("active", "stopped", "exhausted")


def _state(value: str | None) -> str | None:
    if value is not None and value not in _STATES:
        raise typer.BadParameter(f"expected one of {', '.join(_STATES)}, got {value!r}")
    return value


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


@app.command("list", epilog=examples("srekit oncall escalation list --state active"))
def list_command(
    ctx: typer.Context,
    state: Annotated[
        str | None,
        typer.Option(
            metavar="STATE", callback=_state, help="only active, stopped or exhausted ones"
        ),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=1000, help="at most N")] = 100,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Incidents' escalations, newest first."""
    from srekit.core.escalation import EscalationStatus
    from srekit.flows.escalation import list_escalation_views

    status = None if state is None else EscalationStatus(state)
    with errors_to_exit_codes(), open_engine(settings_of(ctx)) as engine:
        documents = [
            view.document() for view in list_escalation_views(engine, status=status, limit=limit)
        ]
    if output is not OutputFormat.TABLE:
        emit(documents, output)
        return
    if not documents:
        console.print("no escalations: apply an EscalationPolicy (srekit apply -f FILE)")
        return
    table = plain_table(
        "incident", "policy", "version", "state", "next step", "next at", "paged", "reason"
    )
    for document in documents:
        table.add_row(
            str(document["incident_id"]),
            str(document["policy"]),
            str(document["policy_version"]),
            str(document["state"]),
            _shown(document["next_step"]),
            _shown(document["next_at"]),
            str(document["steps_paged"]),
            _shown(document["reason"]),
        )
    console.print(table)


@app.command("show", epilog=examples("srekit oncall escalation show 1 --format json"))
def show(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(metavar="INCIDENT", help="the incident's number")],
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """An incident's escalation and its plan: each step, whom it pages, when it is due (an
    incident without one says so; exit 2 for no such incident)."""
    from srekit.core.instant import format_instant
    from srekit.flows.escalation import escalation_plan_of, escalation_view
    from srekit.flows.incidents import incident_view

    settings = settings_of(ctx)
    with errors_to_exit_codes(), open_engine(settings) as engine:
        view = escalation_view(engine, incident_id=incident_id)
        if view is None:
            incident_view(engine, incident_id=incident_id)  # exit 2 for no such incident
            if output is not OutputFormat.TABLE:
                emit(None, output)
            else:
                console.print(
                    f"incident {incident_id} has no escalation: no escalation policy names its"
                    " services and severity, or it was acknowledged before the server's"
                    " escalation job saw it",
                    highlight=False,
                )
            return
        plan = escalation_plan_of(
            engine, incident_id=incident_id, severities=settings.severity_definitions()
        )
    document: dict[str, Any] = view.document()
    document["plan"] = [
        {
            "step": planned.step,
            "cycle": planned.cycle,
            "notify": planned.notify.describe(),
            "due_at": format_instant(planned.due_at),
            "handled": planned.index < view.steps_paged,
        }
        for planned in plan
    ]
    if output is not OutputFormat.TABLE:
        emit(document, output)
        return
    facts = plain_table("", "")
    facts.show_header = False
    for name in ("incident_id", "policy", "policy_version", "state", "next_step", "next_at"):
        facts.add_row(name.replace("_", " "), _shown(document[name]))
    if view.reason:
        facts.add_row("reason", view.reason)
    console.print(facts)
    table = plain_table("step", "pass", "notify", "due at", "")
    for entry in document["plan"]:
        table.add_row(
            str(entry["step"]),
            str(entry["cycle"] + 1),
            entry["notify"],
            entry["due_at"],
            "handled" if entry["handled"] else "",
        )
    console.print(table)
