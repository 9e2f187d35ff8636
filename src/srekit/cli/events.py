"""`srekit events ingest|stats|delete`: load access logs and event files into the embedded
store, see what it holds, and remove a service's events."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    FormatOption,
    OutputFormat,
    abort,
    check_name,
    choice,
    console,
    errors_to_exit_codes,
    plain_table,
    print_json,
)

__all__ = ["app"]

_INGEST = "srekit events ingest examples/logs/checkout.access.log.gz -s checkout"

app = SrekitTyper(
    help="The embedded event store: ingest access logs and event files, see what it holds.",
    epilog=examples(_INGEST, "srekit events stats"),
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
        metavar="PATH",
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
            f"{file}: cannot tell the format from the name: "
            "pass --format nginx, jsonl, csv or parquet"
        )
    return InputFormat(guessed)


@app.command(
    epilog=examples(
        _INGEST,
        "srekit events ingest examples/logs/checkout.access.log.gz \\\n"
        "    -s checkout-live --replace --end-at now",
        "srekit events ingest examples/logs/catalog.access.log.gz -s catalog \\\n"
        "    --format Nginx --store .srekit/sample.duckdb",
    )
)
def ingest(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="log or event file (.gz is read as is)")
    ],
    service: Annotated[
        str,
        typer.Option(
            "--service",
            "-s",
            metavar="SERVICE",
            help="service the events belong to",
            callback=check_name,
        ),
    ],
    input_format: Annotated[
        InputFormat | None,
        choice(
            InputFormat,
            "--format",
            metavar="FORMAT",
            help="{choices} (nginx: combined + $request_time); guessed from the file name"
            " when not given",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    max_rejected: Annotated[
        float,
        typer.Option(
            "--max-rejected",
            metavar="FRACTION",
            min=0.0,
            max=1.0,
            help="fail, storing nothing, when more than this fraction (0 to 1) of records is"
            " malformed",
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
            metavar="TIME",
            help="shift the events so the last one is at this RFC 3339 time, or `now` "
            "(replay a sample log as if it were live)",
        ),
    ] = None,
) -> None:
    """Parse FILE into events of SERVICE; report rows, rejected records and speed."""
    from srekit.cli.options import at_or_now
    from srekit.cli.progress import ingest_progress
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
        ingest_progress(file, description=f"ingesting {file.name}") as progress,
    ):
        report = event_store.ingest_file(
            file,
            service=service,
            format=chosen.value,
            max_rejected_ratio=max_rejected,
            replace=replace,
            end_at=shift_to,
            progress=progress,
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


@app.command(epilog=examples("srekit events stats", "srekit events stats --format json"))
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
    table = plain_table("service", "events", "first", "last", "ingests")
    for document in documents:
        table.add_row(
            str(document["service"]),
            f"{document['events']:,}",
            str(document["first"]),
            str(document["last"]),
            str(document["ingests"]),
        )
    console.print(table)


@app.command(
    epilog=examples(
        "srekit events delete --service checkout-live",
        "srekit events delete --service checkout --before 2026-11-01T00:00:00Z",
    )
)
def delete(
    ctx: typer.Context,
    service: Annotated[
        str,
        typer.Option(
            "--service",
            "-s",
            metavar="SERVICE",
            help="whose events to delete",
            callback=check_name,
        ),
    ],
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            metavar="TIME",
            help="delete only events before this RFC 3339 time (default: all of them)",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Delete a service's events (all, or those before --before). A service the store holds
    no events of is bad input (exit 2): a typo must not look like a successful cleanup."""
    from srekit.core.instant import format_instant, parse_instant
    from srekit.sources.events import EventStore

    cutoff = None
    if before is not None:
        try:
            cutoff = parse_instant(before)
        except ValueError:
            abort(f"--before: expected an RFC 3339 time (2026-11-01T00:00:00Z), got {before!r}")
    path = _store_path(ctx, store)
    if not EventStore.exists(path):
        abort(f"no event store at {path}: nothing to delete")
    with errors_to_exit_codes(), EventStore(path) as event_store:
        held = {row.service: row.events for row in event_store.stats()}
        if service not in held:
            abort(
                f"--service: the event store at {path} holds no events of {service!r}"
                f" (services: {', '.join(sorted(held)) or 'none'})"
            )
        deleted = event_store.delete(service=service, before=cutoff)
    which = f" before {format_instant(cutoff)}" if cutoff else ""
    console.print(
        f"{deleted:,} of {held[service]:,} events of {service}{which} deleted from {path}",
        highlight=False,
        soft_wrap=True,
    )
