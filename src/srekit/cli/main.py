"""The `srekit` entry point: one Typer app per noun, joined here."""

from __future__ import annotations

import typer

from srekit.cli import demo, events, gate, rules, slo, status

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


def main() -> None:
    """Console-script entry point."""
    app()
