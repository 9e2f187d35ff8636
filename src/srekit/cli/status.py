"""`srekit status`: every SLO's SLI, error budget, burn rates, alerts and policy state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from srekit.cli.help import examples
from srekit.cli.options import (
    AtOption,
    EventsOption,
    FilesOption,
    FormatOption,
    OutputFormat,
    PrometheusOption,
    at_or_now,
    console,
    errors_to_exit_codes,
    print_json,
)

if TYPE_CHECKING:
    from srekit.core.status import SloStatus

EXAMPLES = examples(
    "srekit status -f examples/slos",
    "srekit status -f examples/slos --at 2026-11-20T00:00:00Z",
    "srekit status -f examples/slos --service checkout",
    "srekit status -f examples/slos --format json",
    "srekit status -f examples/slos --format yaml",
)

_STATE_STYLE = {
    "normal": "green",
    "reduced_velocity": "yellow",
    "feature_freeze": "dark_orange",
    "all_hands": "red",
    "emergency": "bold red",
    "unknown": "dim",
}


def _percent(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


def _burn(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.0f}m"


def render_table(statuses: list[SloStatus]) -> None:
    """The status table for people: percentages, colours for policy state, firing alerts."""
    from rich.table import Table

    table = Table(title=f"SLO status at {statuses[0].at:%Y-%m-%d %H:%M:%SZ}" if statuses else None)
    for column in ("service", "slo", "objective", "window", "SLI", "budget left"):
        table.add_column(
            column, justify="left" if column in ("service", "slo", "window") else "right"
        )
    for column in ("burn 1h", "burn 6h", "burn 3d", "exhausted in", "alerts", "state", "data"):
        table.add_column(column, justify="right" if column.startswith(("burn", "exh")) else "left")
    for status in statuses:
        style = _STATE_STYLE.get(status.policy_state, "")
        firing = [a for a in status.alerts if a.firing]
        alerts = ", ".join(f"{a.severity} {a.long_window}/{a.short_window}" for a in firing)
        budget = status.error_budget
        table.add_row(
            status.service,
            status.slo,
            _percent(status.objective),
            status.window,
            _percent(status.sli),
            _percent(budget.remaining if budget else None, 1),
            _burn(status.burn_rates.get("1h")),
            _burn(status.burn_rates.get("6h")),
            _burn(status.burn_rates.get("3d")),
            _duration(status.time_to_exhaustion_s),
            f"[bold red]{alerts}[/]" if alerts else "",
            f"[{style}]{status.policy_state}[/]" if style else status.policy_state,
            status.data.value
            + (f" ({status.detail})" if status.detail and status.data != "ok" else ""),
        )
    console.print(table)


def status(
    ctx: typer.Context,
    files: FilesOption,
    at: AtOption = None,
    output: FormatOption = OutputFormat.TABLE,
    prometheus_url: PrometheusOption = None,
    events_store: EventsOption = None,
    service: Annotated[
        str | None, typer.Option(metavar="SERVICE", help="only this service's SLOs")
    ] = None,
) -> None:
    """Evaluate every SLO in the specs now (or --at) and show its standing."""
    from srekit.cli.common import evaluate, load_with_sources
    from srekit.contracts import status_document

    when = at_or_now(at)
    with errors_to_exit_codes():
        specs, sources = load_with_sources(
            ctx, files, prometheus_url=prometheus_url, events_store=events_store
        )
        statuses = evaluate(specs, sources, when)
    if service:
        statuses = [s for s in statuses if s.service == service]
    if output is OutputFormat.TABLE:
        render_table(statuses)
    elif output is OutputFormat.JSON:
        print_json([status_document(s) for s in statuses])
    else:
        import yaml

        typer.echo(
            yaml.safe_dump([status_document(s) for s in statuses], sort_keys=False), nl=False
        )
