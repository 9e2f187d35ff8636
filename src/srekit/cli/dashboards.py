"""`srekit dashboards generate`: Grafana dashboards over srekit's recording rules."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import abort, choice

__all__ = ["app"]

app = SrekitTyper(
    help="Dashboards for the series srekit's rules record.",
    epilog=examples("srekit dashboards generate --format grafana -o dashboards"),
    no_args_is_help=True,
)


class DashboardFormat(StrEnum):
    GRAFANA = "grafana"


class DashboardName(StrEnum):
    OVERVIEW = "overview"
    DETAIL = "detail"


@app.command(
    "generate",
    epilog=examples(
        "srekit dashboards generate --format grafana -o dashboards",
        "srekit dashboards generate --format grafana --dashboard detail",
    ),
)
def generate(
    output: Annotated[
        DashboardFormat,
        choice(DashboardFormat, "--format", metavar="FORMAT", help="{choices}"),
    ] = DashboardFormat.GRAFANA,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="write both dashboards into DIR instead of one to stdout",
        ),
    ] = None,
    dashboard: Annotated[
        DashboardName,
        choice(
            DashboardName,
            "--dashboard",
            metavar="NAME",
            help="{choices}: the one printed without -o",
        ),
    ] = DashboardName.OVERVIEW,
) -> None:
    """Write Grafana 10+ dashboards (JSON to import) over the series `srekit rules generate`
    records: an overview of every SLO, and a detail dashboard for one SLO chosen by its
    service and name."""
    from srekit.dashboards import (
        DASHBOARD_FILES,
        detail_dashboard,
        overview_dashboard,
        render_dashboard,
    )

    if directory is None:
        chosen = overview_dashboard if dashboard is DashboardName.OVERVIEW else detail_dashboard
        typer.echo(render_dashboard(chosen()), nl=False)
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, build in DASHBOARD_FILES.items():
            (directory / name).write_text(render_dashboard(build()), encoding="utf-8")
            typer.echo(f"wrote {directory / name}")
    except OSError as error:
        abort(f"--output: cannot write into {directory}: {error.strerror or error}")
