"""`srekit report monthly|weekly`: the monthly SRE report and the weekly error-budget review,
as Markdown, HTML, PDF or JSON, read from the state store.

Exits 0 with a report, 1 when the period holds no data at all for the scope (an empty report
would read as a quiet month), 2 for bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    AtOption,
    PrometheusOption,
    abort,
    check_name,
    choice,
    errors_to_exit_codes,
)
from srekit.report import ReportFormat

__all__ = ["app"]

app = SrekitTyper(
    help="The monthly SRE report and the weekly error-budget review, from stored data.",
    epilog=examples(
        "srekit report monthly --month 2026-11 --format md",
        "srekit report weekly --week 2026-W47 --format html -o review.html",
    ),
    no_args_is_help=True,
)

ServiceOption = Annotated[
    str | None,
    typer.Option(metavar="NAME", callback=check_name, help="only this service's SLOs"),
]
TeamOption = Annotated[
    str | None,
    typer.Option(metavar="NAME", callback=check_name, help="only the services of this team"),
]
ReportFormatOption = Annotated[
    ReportFormat,
    choice(ReportFormat, "--format", metavar="FORMAT", help="output: {choices}"),
]
OutputFileOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="FILE", help="write to FILE instead of stdout"),
]


def _produce(
    ctx: typer.Context,
    *,
    kind: str,
    label: str,
    service: str | None,
    team: str | None,
    at: str | None,
    output: ReportFormat,
    file: Path | None,
    prometheus_url: str | None,
) -> None:
    from srekit.cli.context import settings_of
    from srekit.cli.options import at_or_now
    from srekit.cli.store_common import open_engine
    from srekit.contracts import report_document
    from srekit.core.report import month_period, week_period
    from srekit.flows.report import stored_report
    from srekit.report import render_report
    from srekit.sources.factory import build_sources, close_sources

    option = "--month" if kind == "monthly" else "--week"
    try:
        period = month_period(label) if kind == "monthly" else week_period(label)
    except ValueError as error:
        abort(f"{option}: {error}")
    if service and team:
        abort("--team: give --service or --team, not both")
    now = at_or_now(at)
    settings = settings_of(ctx)
    with errors_to_exit_codes(), open_engine(settings) as engine:
        sources = build_sources(settings, prometheus_url=prometheus_url, name_paths=True)
        try:
            report = stored_report(
                engine,
                period=period,
                at=now,
                sources=sources,
                service=service,
                team=team,
                severities=settings.severity_definitions(),
            )
        finally:
            close_sources(sources)
    if not report.has_data:
        typer.echo(
            f"error: no data for {report.scope} in {period.title} as at {now:%Y-%m-%dT%H:%M:%SZ}:"
            " no SLO snapshot, incident, deploy or SLO change (is `srekit serve` evaluating"
            " the SLOs? srekit status)",
            err=True,
        )
        raise typer.Exit(1)
    content = render_report(report_document(report), output)
    if file is not None:
        try:
            file.write_bytes(content)
        except OSError as error:
            abort(f"--output: cannot write {file}: {error.strerror or error}")
    elif output is ReportFormat.PDF:
        abort("--format pdf: give a file to write with -o FILE (a PDF is not for a terminal)")
    else:
        typer.echo(content.decode(), nl=False)


@app.command(
    "monthly",
    epilog=examples(
        "srekit report monthly --month 2026-11",
        "srekit report monthly --month 2026-11 --format html -o nov.html",
        "srekit report monthly --month 2026-11 --team team-payments",
        "srekit report monthly --month 2026-11 --format pdf -o nov.pdf",
    ),
)
def monthly_command(
    ctx: typer.Context,
    month: Annotated[
        str, typer.Option(metavar="YYYY-MM", help="the calendar month (UTC)", show_default=False)
    ],
    service: ServiceOption = None,
    team: TeamOption = None,
    at: AtOption = None,
    output: ReportFormatOption = ReportFormat.MD,
    file: OutputFileOption = None,
    prometheus_url: PrometheusOption = None,
) -> None:
    """The monthly SRE report: summary, SLO performance, error budgets with burn-down charts,
    incidents, deployments, SLO changes and open action items. Exits 1 for a month without
    any data."""
    _produce(
        ctx,
        kind="monthly",
        label=month,
        service=service,
        team=team,
        at=at,
        output=output,
        file=file,
        prometheus_url=prometheus_url,
    )


@app.command(
    "weekly",
    epilog=examples(
        "srekit report weekly --week 2026-W47",
        "srekit report weekly --week 2026-W47 --service checkout --format json",
    ),
)
def weekly_command(
    ctx: typer.Context,
    week: Annotated[
        str, typer.Option(metavar="YYYY-Www", help="the ISO week (UTC)", show_default=False)
    ],
    service: ServiceOption = None,
    team: TeamOption = None,
    at: AtOption = None,
    output: ReportFormatOption = ReportFormat.MD,
    file: OutputFileOption = None,
    prometheus_url: PrometheusOption = None,
) -> None:
    """The weekly error-budget review: the report's sections over one ISO week. Exits 1 for a
    week without any data."""
    _produce(
        ctx,
        kind="weekly",
        label=week,
        service=service,
        team=team,
        at=at,
        output=output,
        file=file,
        prometheus_url=prometheus_url,
    )
