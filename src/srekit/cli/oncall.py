"""`srekit oncall who|schedule|fairness|calendar|calendar-url`: who holds the pager, from the
state store's rotations (`--rotation NAME`) or a rotation file (`-f FILE`, ruling since ever
unless its `spec.effective_from` says otherwise).

Times are RFC 3339; `--at` and `--from`/`--to` may lie in the future (who is on call next
week). A schedule with gaps exits 0 and lists them plainly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli import handoff
from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    FormatOption,
    OutputFormat,
    abort,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)

if TYPE_CHECKING:
    from srekit.core.rotation import RotationVersion

__all__ = ["app"]

app = SrekitTyper(
    help="On call: who holds the pager, schedules, fairness, calendars.",
    epilog=examples(
        "srekit oncall who -f examples/oncall/payments.yaml",
        "srekit oncall who --rotation payments",
    ),
    no_args_is_help=True,
)

RotationOption = Annotated[
    str | None,
    typer.Option("--rotation", "-r", metavar="NAME", help="a rotation in the state store"),
]
FileOption = Annotated[
    Path | None,
    typer.Option("--file", "-f", metavar="FILE", help="a rotation file instead"),
]


def _instant(value: str | None, option: str) -> datetime | None:
    from srekit.core.instant import parse_instant

    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        abort(f"{option}: {error}")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _versions(
    ctx: typer.Context, rotation: str | None, file: Path | None
) -> tuple[str, list[RotationVersion]]:
    """The rotation's name and its ruling versions, from the store or a file."""
    from srekit.flows.oncall import file_versions, stored_versions

    if (rotation is None) == (file is None):
        abort("expected one of --rotation NAME (a stored rotation) or -f FILE")
    if file is not None:
        from srekit.core.oncall import RotationChange
        from srekit.spec.document import read_documents
        from srekit.spec.loader import parse_spec_documents

        specs = parse_spec_documents(read_documents(file))
        if len(specs.rotations) != 1:
            abort(f"{file}: expected one kind: Rotation document, got {len(specs.rotations)}")
        change: RotationChange = next(iter(specs.rotations.values()))
        return change.rotation.name, file_versions(change)
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine

    assert rotation is not None
    with open_engine(settings_of(ctx)) as engine:
        return rotation, stored_versions(engine, name=rotation)


def _range(
    start: str | None, end: str | None, *, days_before: int, days_after: int
) -> tuple[datetime, datetime]:
    from srekit.flows.oncall import check_range

    now = _now()
    low = _instant(start, "--from") or now - timedelta(days=days_before)
    high = _instant(end, "--to") or low + timedelta(days=days_before + days_after)
    try:
        check_range(low, high)
    except ValueError as error:
        abort(f"--to: {getattr(error, 'detail', error)}")
    return low, high


FromOption = Annotated[str | None, typer.Option("--from", metavar="TIME", help="RFC 3339")]
ToOption = Annotated[str | None, typer.Option("--to", metavar="TIME", help="RFC 3339")]


def _member(shift: dict[str, Any]) -> str:
    return shift["member"] or "(nobody)"


@app.command(
    "who",
    epilog=examples(
        "srekit oncall who -f examples/oncall/payments.yaml \\\n  --at 2026-03-29T12:00:00Z",
        "srekit oncall who --rotation payments --format json",
    ),
)
def who(
    ctx: typer.Context,
    rotation: RotationOption = None,
    file: FileOption = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="TIME", help="RFC 3339 (default: now)")
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Who holds each layer at --at: the member and their shift (nobody in a gap)."""
    from srekit.contracts import who_document
    from srekit.flows.oncall import who as who_holds

    moment = _instant(at, "--at") or _now()
    with errors_to_exit_codes():
        name, versions = _versions(ctx, rotation, file)
        document = who_document(name, at=moment, held=who_holds(versions, at=moment))
    if output is not OutputFormat.TABLE:
        emit(document, output)
        return
    table = plain_table("layer", "on call", "since", "until")
    for layer, shift in document["layers"].items():
        table.add_row(layer, _member(shift), shift["shift_start"] or "-", shift["shift_end"] or "-")
    console.print(table)


@app.command(
    "schedule",
    epilog=examples(
        "srekit oncall schedule -f examples/oncall/payments.yaml \\\n"
        "  --from 2026-03-23T00:00:00Z --to 2026-04-06T00:00:00Z",
    ),
)
def schedule(
    ctx: typer.Context,
    rotation: RotationOption = None,
    file: FileOption = None,
    start: FromOption = None,
    end: ToOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Every shift from --from (default: now) to --to (default: 14 days on), overrides
    applied; gaps are listed (exit 0)."""
    from srekit.contracts import schedule_document
    from srekit.flows.oncall import schedule as shifts_of

    low, high = _range(start or format_now(), end, days_before=0, days_after=14)
    with errors_to_exit_codes():
        name, versions = _versions(ctx, rotation, file)
        document = schedule_document(
            name, start=low, end=high, shifts=shifts_of(versions, start=low, end=high)
        )
    if output is not OutputFormat.TABLE:
        emit(document, output)
        return
    table = plain_table("layer", "on call", "from", "to", "note")
    for shift in document["shifts"]:
        note = "override" if shift["override"] else (f"gap: {shift['gap']}" if shift["gap"] else "")
        table.add_row(shift["layer"], _member(shift), shift["start"], shift["end"], note)
    console.print(table)
    gaps = document["gaps"]
    if gaps:
        console.print(f"{len(gaps)} gap(s): nobody holds a layer for part of the range")
    else:
        console.print("no gaps: every layer is held throughout")


def format_now() -> str:
    from srekit.core.instant import format_instant

    return format_instant(_now())


@app.command(
    "fairness",
    epilog=examples(
        "srekit oncall fairness --rotation payments \\\n"
        "  --from 2026-01-05T00:00:00Z --to 2026-04-06T00:00:00Z",
    ),
)
def fairness(
    ctx: typer.Context,
    rotation: Annotated[
        str, typer.Option("--rotation", "-r", metavar="NAME", help="a stored rotation")
    ],
    start: FromOption = None,
    end: ToOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Each member's hours, night (22:00-07:00) and weekend hours in their own time zone,
    shifts and pages, from --from to --to (default: the last 90 days)."""
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.contracts import fairness_document
    from srekit.flows.oncall import rotation_fairness, stored_versions

    low, high = _range(start, end, days_before=90, days_after=0)
    with errors_to_exit_codes(), open_engine(settings_of(ctx)) as engine:
        versions = stored_versions(engine, name=rotation)
        loads = rotation_fairness(engine, versions, start=low, end=high)
    document = fairness_document(rotation, start=low, end=high, loads=loads)
    if output is not OutputFormat.TABLE:
        emit(document, output)
        return
    table = plain_table("person", "hours", "nights", "weekends", "shifts", "pages")
    for load in document["people"]:
        table.add_row(
            load["person"],
            f"{load['hours']:g}",
            f"{load['night_hours']:g}",
            f"{load['weekend_hours']:g}",
            str(load["shifts"]),
            str(load["pages"]),
        )
    console.print(table)


@app.command(
    "calendar",
    epilog=examples(
        "srekit oncall calendar -f examples/oncall/payments.yaml \\\n"
        "  --from 2026-03-01T00:00:00Z --to 2026-05-01T00:00:00Z",
    ),
)
def calendar(
    ctx: typer.Context,
    rotation: RotationOption = None,
    file: FileOption = None,
    start: FromOption = None,
    end: ToOption = None,
) -> None:
    """The rotation's shifts as an iCalendar feed on stdout, to save as a .ics file: 30 days
    back to 180 ahead unless --from/--to say otherwise."""
    import sys

    from srekit.core.oncall import default_calendar_range
    from srekit.flows.oncall import calendar_shifts
    from srekit.ical import calendar_feed

    default_low, default_high = default_calendar_range(_now())
    low = _instant(start, "--from") or default_low
    high = _instant(end, "--to") or default_high
    with errors_to_exit_codes():
        name, versions = _versions(ctx, rotation, file)
        shifts = calendar_shifts(versions, start=low, end=high)
    sys.stdout.buffer.write(
        calendar_feed(f"on call: {name}", [(name, s) for s in shifts], now=_now())
    )
    sys.stdout.flush()


@app.command(
    "calendar-url",
    epilog=examples("srekit oncall calendar-url payments"),
)
def calendar_url(
    ctx: typer.Context,
    rotation: Annotated[str, typer.Argument(metavar="ROTATION", help="a stored rotation")],
) -> None:
    """Print the URL a calendar client subscribes to for the rotation's shifts, under
    SREKIT_PUBLIC_URL and signed (`?sig=`): it opens that rotation's feed only, without a
    token. Exits 2 for an unknown rotation."""
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.flows.oncall import signed_calendar_path, stored_versions

    settings = settings_of(ctx)
    with errors_to_exit_codes(), open_engine(settings) as engine:
        stored_versions(engine, name=rotation)  # NotFound for an unknown rotation
        link = f"{settings.public_url}{signed_calendar_path(engine, rotation=rotation)}"
    typer.echo(link)


# `srekit oncall handoff`: its own module, a command of this noun
app.command("handoff", epilog=handoff.EXAMPLES)(handoff.handoff)
