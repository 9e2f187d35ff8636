"""The `srekit` entry point and composition root: one Typer app per noun, joined here, and the
callback that gives every command of an invocation one `CliContext` (its settings)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from srekit.cli import (
    alert,
    apply,
    audit,
    canary,
    capacity,
    chaos,
    config,
    dashboards,
    db,
    demo,
    escalation,
    events,
    gate,
    get,
    incident,
    load,
    oncall,
    person,
    postmortem,
    report,
    rules,
    serve,
    slo,
    status,
    status_page,
    token,
)
from srekit.cli.context import CliContext
from srekit.cli.help import SrekitTyper, examples

# Shell completion is Typer's: `srekit --install-completion` (bash, zsh, fish, PowerShell)
# and `srekit --show-completion` to print the script instead.
app = SrekitTyper(
    name="srekit",
    help="SLOs as code: error budgets, burn-rate alerts, Prometheus rules and a deploy gate.",
    epilog=examples(
        "srekit slo validate -f examples/slos",
        "srekit status -f examples/slos --at 2026-11-20T00:00:00Z",
        "srekit slo --help",
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(slo.app, name="slo")
app.command("apply", epilog=apply.EXAMPLES)(apply.apply)
app.command("get", epilog=get.EXAMPLES)(get.get)
app.add_typer(rules.app, name="rules")
app.command("status", epilog=status.EXAMPLES)(status.status)
app.command("gate", epilog=gate.EXAMPLES)(gate.gate)
app.command("demo", epilog=demo.EXAMPLES)(demo.demo)
app.add_typer(events.app, name="events")
app.add_typer(db.app, name="db")
app.command("audit", epilog=audit.EXAMPLES)(audit.audit)
app.add_typer(token.app, name="token")
app.add_typer(incident.app, name="incident")
app.add_typer(incident.task_app, name="task")
app.add_typer(alert.app, name="alert")
app.add_typer(alert.app, name="alerts", hidden=True)  # the same noun, either spelling
app.add_typer(postmortem.app, name="postmortem")
app.add_typer(person.app, name="person")
app.add_typer(oncall.app, name="oncall")
oncall.app.add_typer(escalation.app, name="escalation")
app.add_typer(report.app, name="report")
app.add_typer(dashboards.app, name="dashboards")
app.add_typer(status_page.app, name="status-page")
app.add_typer(status_page.badge_app, name="badge")
app.add_typer(canary.app, name="canary")
app.add_typer(capacity.app, name="capacity")
app.add_typer(load.app, name="load")
app.add_typer(chaos.app, name="chaos")
app.command("serve", epilog=serve.EXAMPLES)(serve.serve)
app.command(
    "config",
    epilog=examples(
        "srekit config", "srekit config --format json", "SREKIT_HOME=/tmp/s srekit config"
    ),
)(config.config)


def _print_version(value: bool) -> None:
    if value:
        from srekit import __version__

        typer.echo(f"srekit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _srekit(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print srekit's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    # No docstring: the app's help stays the one above. The settings are read on first use.
    ctx.obj = CliContext()


def main() -> None:
    """Console-script entry point; a bad `SREKIT_*` variable is a clear error with exit 2."""
    try:
        app()
    except ValidationError as error:
        if error.title != "Settings":
            raise
        for problem in error.errors():
            variable = "SREKIT_" + "_".join(str(part) for part in problem["loc"]).upper()
            print(f"error: {variable}: {problem['msg']}", file=sys.stderr)
        sys.exit(2)
