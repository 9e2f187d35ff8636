"""`srekit status`: every SLO's SLI, error budget, burn rates, alerts and policy state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srekit.cli.help import examples
from srekit.cli.options import (
    AtOption,
    EventsOption,
    FormatOption,
    OutputFormat,
    PrometheusOption,
    abort,
    at_or_now,
    console,
    error_console,
    errors_to_exit_codes,
    percent,
    print_json,
)
from srekit.cli.remote import (
    FilesOrServerOption,
    ServerOption,
    check_files_or_server,
    reading_from,
)
from srekit.core.status import BURN_RATE_WINDOWS_S
from srekit.core.window import format_duration

if TYPE_CHECKING:
    from rich.table import Table

    from srekit.core.status import SloStatus

EXAMPLES = examples(
    "srekit status -f examples/slos",
    "srekit status -f examples/slos --at 2026-11-20T00:00:00Z",
    "srekit status -f examples/slos --service checkout",
    "srekit status -f examples/slos --wide",
    "srekit status -f examples/slos --format json",
    "srekit status -f examples/slos --format yaml",
)

# colours by how much budget is left, whatever a policy names its levels
_BUDGET_STYLES = ((0.5, "green"), (0.25, "yellow"), (0.1, "dark_orange"), (0.0, "red"))
_NARROW_BURN_WINDOWS = ("1h", "6h", "3d")
_STANDARD_BURN_WINDOWS = tuple(format_duration(seconds) for seconds in BURN_RATE_WINDOWS_S)


def _own_window_burn(status: SloStatus) -> float | None:
    """The burn rate over the SLO's own window (keyed by its name, after the standard ones)."""
    own = [name for name in status.burn_rates if name not in _STANDARD_BURN_WINDOWS]
    return status.burn_rates.get(own[0] if own else status.window)


def _budget_style(remaining: float | None) -> str:
    if remaining is None:
        return "dim"
    return next((style for floor, style in _BUDGET_STYLES if remaining > floor), "bold red")


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


def _notes(status: SloStatus) -> list[str]:
    """What a row cannot say in its cells: why data is missing, which alerts fire."""
    notes = []
    if status.data.value != "ok":
        data = status.data.value
        notes.append(f"{data}: {status.detail}" if status.detail else data)
    for alert in status.alerts:
        if alert.firing:
            notes.append(
                f"{alert.severity} alert firing: burn over {alert.long_window} and"
                f" {alert.short_window} above {alert.factor:.3g}"
            )
    return notes


def render_table(statuses: list[SloStatus], *, wide: bool = False) -> None:
    """The status table for people: 100 columns wide (`wide`: every figure), the budget and
    SLI coloured by the budget left, and what does not fit a cell in notes below."""
    title, table, notes = _view(statuses, wide=wide)
    if title is not None:
        console.print(title, highlight=False)
    if wide:
        # every column at its natural width, however narrow the terminal: lines may be long
        from rich.console import Console
        from rich.measure import Measurement

        unbounded = console.options.update_width(100_000)
        natural = Measurement.get(console, unbounded, table).maximum
        Console(width=max(natural, console.width), no_color=console.no_color).print(table)
    else:
        console.print(table)
    for note in notes:
        console.print(note, highlight=False, markup=False)


def _view(statuses: list[SloStatus], *, wide: bool) -> tuple[str | None, Table, list[str]]:
    """The title, the table and the notes below it."""
    from rich.table import Table

    title = f"SLO status at {statuses[0].at:%Y-%m-%d %H:%M:%SZ}" if statuses else None
    # kubectl's layout: no rules, two spaces between columns, every figure on one line
    table = Table(box=None, pad_edge=False, header_style="bold")
    _add_columns(table, wide=wide)
    notes: list[str] = []
    for status in statuses:
        table.add_row(*_cells(status, wide=wide, notes=notes))
    return title, table, notes


def _watch(read: Callable[[], list[SloStatus]], *, every_s: float) -> None:
    """Redraw the table in place every `every_s` seconds until Ctrl-C."""
    import time

    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    def frame() -> Group:
        title, table, notes = _view(read(), wide=False)
        shown = f"{title} · every {every_s:g}s, Ctrl-C to stop" if title else "no SLO yet"
        return Group(Text(shown), table, *(Text(note) for note in notes))

    with Live(frame(), console=console, auto_refresh=False) as live:
        try:
            while True:
                time.sleep(every_s)
                live.update(frame(), refresh=True)
        except KeyboardInterrupt:
            return


def _add_columns(table: Table, *, wide: bool) -> None:
    if wide:
        table.add_column("service", no_wrap=True)
        table.add_column("slo", no_wrap=True)
    else:
        table.add_column("slo", overflow="fold", min_width=12)
    table.add_column("target", justify="right", no_wrap=True)
    table.add_column("window", no_wrap=True)
    table.add_column("sli", justify="right", no_wrap=True)
    table.add_column("budget", justify="right", no_wrap=True)
    for window in _STANDARD_BURN_WINDOWS if wide else _NARROW_BURN_WINDOWS:
        header = f"burn {window}" if wide else f"burn\n{window}"
        table.add_column(header, justify="right", no_wrap=True)
    if wide:
        table.add_column("burn window", justify="right", no_wrap=True)
    table.add_column("empty in", justify="right", no_wrap=True)
    table.add_column("state", no_wrap=True)
    if wide:
        table.add_column("data", no_wrap=True)
        table.add_column("notes")


def _cells(status: SloStatus, *, wide: bool, notes: list[str]) -> list[str]:
    """One row; in the narrow table what does not fit is appended to `notes`, marked `[n]`."""
    from rich.markup import escape

    budget = status.error_budget
    remaining = budget.remaining if budget else None
    style = _budget_style(remaining)
    own_notes = _notes(status)
    burns = [
        _burn(status.burn_rates.get(window))
        for window in (_STANDARD_BURN_WINDOWS if wide else _NARROW_BURN_WINDOWS)
    ]
    figures = [
        percent(status.objective),
        status.window if wide else status.window.split(" (")[0],
        f"[{style}]{_percent(status.sli)}[/]",
        f"[{style}]{_percent(remaining, 1)}[/]",
        *burns,
    ]
    if wide:
        return [
            status.service,
            status.slo,
            *figures,
            _burn(_own_window_burn(status)),
            _duration(status.time_to_exhaustion_s),
            status.policy_state,
            status.data.value,
            "; ".join(own_notes),
        ]
    state = status.policy_state if status.data.value == "ok" else f"[bold red]{status.data}[/]"
    markers = []
    for note in own_notes:
        notes.append(f"[{len(notes) + 1}] {status.service}/{status.slo}: {note}")
        markers.append(escape(f"[{len(notes)}]"))
    if markers:
        state += " " + "".join(markers)
    return [
        f"{status.service}/{status.slo}",
        *figures,
        _duration(status.time_to_exhaustion_s),
        state,
    ]


def status(
    ctx: typer.Context,
    files: FilesOrServerOption = None,
    at: AtOption = None,
    output: FormatOption = OutputFormat.TABLE,
    prometheus_url: PrometheusOption = None,
    events_store: EventsOption = None,
    service: Annotated[
        str | None, typer.Option(metavar="SERVICE", help="only this service's SLOs")
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="every figure: all burn rates, data state, notes")
    ] = False,
    server: ServerOption = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="redraw the table in place until Ctrl-C")
    ] = False,
    every: Annotated[
        float, typer.Option(min=1.0, metavar="SECONDS", help="how often --watch redraws")
    ] = 10.0,
) -> None:
    """Evaluate every SLO in the specs now (or --at) and show its standing; with --server,
    show a running srekit's stored SLOs as its evaluator last saw them; with neither, evaluate
    the SLOs of the state store (`make run` stores the examples' in .srekit/).

    Exit codes: 0 every SLO was evaluated (some may have no data in their window), 2 bad input,
    3 an SLO's SLI data could not be read, or no SLO had any data: the figures shown are not
    the whole truth (with --server also: the server could not be reached, or holds no SLO).
    What was read (a server, the state store) is said on stderr.
    """
    from srekit.contracts import status_document

    server = check_files_or_server(ctx, files, server, at)
    if watch and (output is not OutputFormat.TABLE or wide):
        abort("--watch redraws the table: it takes neither --format json|yaml nor --wide")
    if server:
        reading_from(f"the server at {server}")
    rounds = 0

    def read() -> list[SloStatus]:
        nonlocal rounds
        rounds += 1
        if server:
            return _from_server(server, service)
        return _evaluated(
            ctx, files or [], at, prometheus_url, events_store, service, announce=rounds == 1
        )

    if watch:
        _watch(read, every_s=every)
        return
    statuses = read()
    if output is OutputFormat.TABLE:
        render_table(statuses, wide=wide)
    elif output is OutputFormat.JSON:
        print_json([status_document(s) for s in statuses])
    else:
        import yaml

        typer.echo(
            yaml.safe_dump([status_document(s) for s in statuses], sort_keys=False), nl=False
        )
    problem = _incomplete(statuses)
    if problem is not None:
        error_console.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(3)


def _evaluated(
    ctx: typer.Context,
    files: list[Path],
    at: str | None,
    prometheus_url: str | None,
    events_store: Path | None,
    service: str | None,
    *,
    announce: bool,
) -> list[SloStatus]:
    from srekit.cli.common import evaluate, load_with_sources
    from srekit.flows.gate import require_service
    from srekit.sources.factory import close_sources

    when = at_or_now(at)
    with errors_to_exit_codes():
        specs, sources = load_with_sources(
            ctx,
            files,
            prometheus_url=prometheus_url,
            events_store=events_store,
            announce=announce,
        )
        try:
            if service:
                require_service(specs, service)
                own = tuple(slo for slo in specs.slos if slo.service == service)
                specs = replace(specs, slos=own)
            return evaluate(specs, sources, when)
        finally:  # a Prometheus client's sockets, an event store's DuckDB file
            close_sources(sources)


def _from_server(server: str, service: str | None) -> list[SloStatus]:
    from pydantic import ValidationError

    from srekit.cli.remote import server_get
    from srekit.contracts import status_from_document

    answer = server_get(server, "/api/v1/status", {"service": service} if service else None)
    try:
        statuses = [status_from_document(document) for document in answer]
    except (ValidationError, TypeError) as error:
        abort(f"srekit at {server} answered statuses srekit cannot read: {error}", 3)
    if not statuses:
        which = f" of service {service!r}" if service else ""
        abort(f"srekit at {server} holds no SLO{which}", 2 if service else 3)
    return statuses


def _incomplete(statuses: list[SloStatus]) -> str | None:
    """Why the statuses are not the whole truth (exit 3), or None when they are."""
    from srekit.core.status import DataState

    unreadable = [s for s in statuses if s.data in (DataState.ERROR, DataState.STALE)]
    if unreadable:
        first = unreadable[0]
        return (
            f"the SLI data of {len(unreadable)} of {len(statuses)} SLO(s) could not be read;"
            f" {first.service}/{first.slo}: {first.detail or first.data.value}"
        )
    if statuses and not any(s.data is DataState.OK for s in statuses):
        return f"none of the {len(statuses)} SLO(s) had SLI data in its window"
    return None
