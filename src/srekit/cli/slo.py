"""`srekit slo validate|list`: check and show SLO specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.options import FilesOption, OutputFormat, console, errors_to_exit_codes, print_json

app = typer.Typer(
    help="Validate and list SLO specs (native, OpenSLO, Sloth).", no_args_is_help=True
)


@app.command()
def validate(files: FilesOption) -> None:
    """Parse every spec; exit 2 naming the file, field and expectation at the first problem."""
    from srekit.cli.common import load

    with errors_to_exit_codes():
        specs = load(files)
    console.print(
        f"[green]valid:[/] {len(specs.slos)} SLO(s) for {len(specs.services())} service(s) "
        f"in {len(specs.files)} file(s)"
        + (f", {len(specs.policies)} policy(ies)" if specs.policies else ""),
        highlight=False,
    )


@app.command("list")
def list_slos(
    files: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", help="spec file or directory (repeatable)"),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    stored: Annotated[
        bool, typer.Option("--stored", help="list the SLOs in the state store")
    ] = False,
    service: Annotated[str | None, typer.Option(help="with --stored: only this service")] = None,
) -> None:
    """List the SLOs the specs declare (or, with --stored, those in the state store)."""
    from rich.table import Table

    from srekit.cli.common import load
    from srekit.core.window import window_label

    if stored:
        from srekit.cli.slo_store import print_stored

        print_stored(output=output, service=service)
        return
    files = files or []

    with errors_to_exit_codes():
        specs = load(files)
    rows = [
        {
            "service": slo.service,
            "slo": slo.name,
            "objective": slo.objective,
            "window": window_label(slo.window),
            "budgeting": slo.budgeting.value,
            "indicator": type(slo.indicator).__name__,
            "file": slo.source_file,
        }
        for slo in specs.slos
    ]
    if output is not OutputFormat.TABLE:
        if output is OutputFormat.JSON:
            print_json(rows)
        else:
            import yaml

            typer.echo(yaml.safe_dump(rows, sort_keys=False), nl=False)
        return
    table = Table("service", "slo", "objective", "window", "budgeting", "indicator", "file")
    for row in rows:
        table.add_row(
            str(row["service"]),
            str(row["slo"]),
            f"{float(str(row['objective'])):.3%}",
            str(row["window"]),
            str(row["budgeting"]),
            str(row["indicator"]),
            str(row["file"]),
        )
    console.print(table)
