"""`srekit events ingest|stats`: load access logs and event files into the embedded store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.context import settings_of
from srekit.cli.options import (
    FormatOption,
    OutputFormat,
    abort,
    check_name,
    console,
    errors_to_exit_codes,
    print_json,
)

__all__ = ["app"]

app = typer.Typer(
    help="The embedded event store: ingest access logs and event files, see what it holds.",
    no_args_is_help=True,
)

# Guessed from the file name when --format is not given; `.gz` is looked through.
_SUFFIX_FORMATS = {
    ".log": "nginx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}


class InputFormat(StrEnum):
    NGINX = "nginx"
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="event store: a directory, or a .duckdb file [default: $SREKIT_HOME/events]",
        show_default=False,
    ),
]


def _store_path(ctx: typer.Context, store: Path | None) -> Path:
    """`--store`, else `$SREKIT_HOME/events` as every other command reads it (`srekit config`
    shows where that is); the settings are not read when `--store` is given."""
    return store or settings_of(ctx).events_path


def _guess_format(file: Path) -> InputFormat:
    suffixes = [suffix.lower() for suffix in file.suffixes if suffix.lower() != ".gz"]
    guessed = _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    if guessed is None:
        abort(
            f"{file}: cannot tell the format from the name: pass --format nginx|jsonl|csv|parquet"
        )
    return InputFormat(guessed)


@app.command()
def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="log or event file (.gz is read as is)")],
    service: Annotated[
        str,
        typer.Option("--service", "-s", help="service the events belong to", callback=check_name),
    ],
    input_format: Annotated[
        InputFormat | None,
        typer.Option("--format", help="nginx (combined + $request_time), jsonl, csv, parquet"),
    ] = None,
    store: StoreOption = None,
    max_rejected: Annotated[
        float,
        typer.Option(
            "--max-rejected",
            min=0.0,
            max=1.0,
            help="fail, storing nothing, when more than this fraction of records is malformed",
        ),
    ] = 0.01,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="first drop what earlier ingests of this file stored"),
    ] = False,
    end_at: Annotated[
        str | None,
        typer.Option(
            "--end-at",
            help="shift the events so the last one is at this RFC 3339 time, or `now` "
            "(replay a sample log as if it were live)",
        ),
    ] = None,
) -> None:
    """Parse FILE into events of SERVICE; report rows, rejected records and speed."""
    from srekit.cli.options import at_or_now
    from srekit.sources.events import EventStore

    chosen = input_format or _guess_format(file)
    try:
        shift_to = None if end_at is None else at_or_now(None if end_at == "now" else end_at)
    except ValueError:
        abort(
            f"--end-at: expected an RFC 3339 time like 2026-11-01T00:00:00Z or now, got {end_at!r}"
        )
    with (
        errors_to_exit_codes(),
        EventStore(_store_path(ctx, store), name_directories=True) as event_store,
    ):
        report = event_store.ingest_file(
            file,
            service=service,
            format=chosen.value,
            max_rejected_ratio=max_rejected,
            replace=replace,
            end_at=shift_to,
        )
    if report.duplicate:
        console.print(
            f"{file}: already ingested for service {service} in {event_store.path}: nothing"
            " stored (use --replace to load it again)",
            highlight=False,
            soft_wrap=True,
        )
        return
    console.print(
        f"{file}: {report.rows:,} events ingested for service {service} into"
        f" {event_store.path}, {report.rejected:,} records rejected, "
        f"{report.lines_per_s:,.0f} lines/s ({report.seconds:.2f} s)"
        + (f"; replaced {report.replaced:,} earlier events" if report.replaced else ""),
        highlight=False,
        soft_wrap=True,
    )
    for sample in report.rejected_samples:
        console.print(f"  rejected: {sample}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def stats(
    ctx: typer.Context, store: StoreOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """Events per service and the time range they cover."""
    from srekit.core.instant import format_instant
    from srekit.sources.events import EventStore

    path = _store_path(ctx, store)
    if not EventStore.exists(path):
        abort(f"no event store at {path}: ingest events first (srekit events ingest FILE)")
    with (
        errors_to_exit_codes(),
        EventStore(path, read_only=True, name_directories=True) as event_store,
    ):
        rows = event_store.stats()
    documents = [
        {
            "service": row.service,
            "events": row.events,
            "first": format_instant(row.first_ts),
            "last": format_instant(row.last_ts),
            "ingests": row.ingests,
        }
        for row in rows
    ]
    if output is OutputFormat.JSON:
        print_json(documents)
        return
    if output is OutputFormat.YAML:
        import yaml

        typer.echo(yaml.safe_dump(documents, sort_keys=False), nl=False)
        return
    from rich.table import Table

    table = Table("service", "events", "first", "last", "ingests")
    for document in documents:
        table.add_row(
            str(document["service"]),
            f"{document['events']:,}",
            str(document["first"]),
            str(document["last"]),
            str(document["ingests"]),
        )
    console.print(table)
