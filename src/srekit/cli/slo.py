"""`srekit slo validate|list`: check and show SLO specs."""

from __future__ import annotations

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
    files: FilesOption,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """List the SLOs the specs declare."""
    from rich.table import Table

    from srekit.cli.common import load
    from srekit.core.window import window_label

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
