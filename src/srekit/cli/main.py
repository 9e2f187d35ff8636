"""The `srekit` entry point and composition root: one Typer app per noun, joined here, and the
callback that gives every command of an invocation one `CliContext` (its settings)."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from srekit.cli import audit, config, db, demo, events, gate, rules, serve, slo, status, token
from srekit.cli.context import CliContext

app = typer.Typer(
    name="srekit",
    help="SLOs as code: error budgets, burn-rate alerts, Prometheus rules and a deploy gate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(slo.app, name="slo")
app.add_typer(rules.app, name="rules")
app.command("status")(status.status)
app.command("gate")(gate.gate)
app.command("demo")(demo.demo)
app.add_typer(events.app, name="events")
app.add_typer(db.app, name="db")
app.command("audit")(audit.audit)
app.add_typer(token.app, name="token")
app.command("serve")(serve.serve)
app.command("config")(config.config)


@app.callback()
def _srekit(ctx: typer.Context) -> None:
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
