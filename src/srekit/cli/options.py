"""The options several commands share (`--file`, `--at`, `--format`, `--prometheus-url`,
`--events-store`, `--actor`), how data is printed, and the one place errors become exit codes.

Exit codes: 0 success (or allowed), 1 denied or a failed check, 2 bad input.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from srekit.core.instant import parse_instant, past_instant
from srekit.core.names import name_problem
from srekit.errors import SpecError, SrekitError

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "ActorOption",
    "AtOption",
    "ChoiceT",
    "EventsOption",
    "FilesOption",
    "FormatOption",
    "OutputFormat",
    "PrometheusOption",
    "abort",
    "at_or_now",
    "check_name",
    "choice",
    "console",
    "emit",
    "error_console",
    "errors_to_exit_codes",
    "indicator_kind",
    "percent",
    "plain_table",
    "print_json",
]

# Off a terminal (make, CI, pipes) Rich assumes 80 columns: tables are laid out for 100
# there, and messages are not wrapped at all (a log line is one line). COLUMNS, when set,
# wins either way; NO_COLOR turns colours off (Rich reads both).
_UNSIZED = not sys.stdout.isatty() and "COLUMNS" not in os.environ
console = Console(width=100 if _UNSIZED else None, soft_wrap=_UNSIZED)
error_console = Console(stderr=True)


ChoiceT = TypeVar("ChoiceT", bound=StrEnum)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


def choice(kind: type[ChoiceT], *names: str, metavar: str, help: str, **settings: Any) -> Any:
    """A `typer.Option` taking one of the values of `kind`, whatever their case (`--format
    JSON`, `--format Nginx`); another value is refused with exit 2 listing the choices
    (Typer's own message starts with pydantic's "Value error,"). Shells complete the values;
    `{choices}` in `help` lists them."""
    allowed = ", ".join(member.value for member in kind)

    def parse(value: str | ChoiceT) -> ChoiceT:
        if isinstance(value, kind):
            return value
        try:
            return kind(str(value).lower())
        except ValueError:
            raise typer.BadParameter(f"expected one of {allowed}, got {value!r}") from None

    def complete(incomplete: str) -> list[str]:
        return [member.value for member in kind if member.value.startswith(incomplete.lower())]

    return typer.Option(
        *names,
        parser=parse,
        autocompletion=complete,
        metavar=metavar,
        help=help.replace("{choices}", allowed),
        **settings,
    )


def _parse_at(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_instant(value)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
    return value


def check_name(value: str | None) -> str | None:
    """An option's callback: a name by srekit's rule (`core.names`), or exit 2 naming the
    option and saying what is expected."""
    if value is not None:
        problem = name_problem(value)
        if problem is not None:
            raise typer.BadParameter(problem)
    return value


#: The service a stored record (a load-test run, a canary analysis) belongs to.
ServiceName = Annotated[
    str | None,
    typer.Option("--service", metavar="NAME", help="the service tested", callback=check_name),
]

FilesOption = Annotated[
    list[Path],
    typer.Option(
        "--file",
        "-f",
        metavar="FILE",
        help="spec file or directory (repeatable)",
        show_default=False,
    ),
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="TIME",
        help="evaluate at this RFC 3339 time instead of now, to reproduce a result",
        callback=_parse_at,
    ),
]

FormatOption = Annotated[
    OutputFormat, choice(OutputFormat, "--format", metavar="FORMAT", help="output: {choices}")
]
PrometheusOption = Annotated[
    str | None,
    typer.Option(
        "--prometheus-url", metavar="URL", help="Prometheus HTTP API (or SREKIT_PROMETHEUS_URL)"
    ),
]
EventsOption = Annotated[
    Path | None,
    typer.Option(
        "--events-store",
        metavar="DIR",
        help="event store directory (default $SREKIT_HOME/events)",
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        metavar="NAME",
        envvar="SREKIT_ACTOR",
        help="who makes the change, for the audit log (default: the OS user)",
        show_default=False,
    ),
]


def at_or_now(at: str | None) -> datetime:
    """The evaluation instant in UTC: `--at` when given, else the current time (whole seconds);
    a future `--at` is refused (exit 2, `core.instant.past_instant` says why)."""
    try:
        return past_instant(at, now=datetime.now(UTC).replace(microsecond=0))
    except ValueError as error:
        abort(f"--at: {error}")


def abort(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` to stderr and exit with `code` (2: bad input)."""
    # the message is shown as written: `[5m]` in a query or a pattern is not Rich markup
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    """Turn srekit's errors into a one-line message and exit 2, never a traceback."""
    try:
        yield
    except SpecError as error:
        abort(str(error))
    except SrekitError as error:
        abort(str(error))


def plain_table(*headers: str, fold: str | None = None) -> Table:
    """A table in kubectl's layout: no rules, two spaces between columns. Cells stay on one
    line, except in the `fold` column (free text: a file, a change), which folds onto the
    next line rather than ending in `…`."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in headers:
        if header == fold:
            table.add_column(header, overflow="fold")
        else:
            table.add_column(header, no_wrap=True)
    return table


def percent(fraction: float) -> str:
    """99.9%, 99.95%, 95%: as many digits as the fraction has, never rounded away."""
    return f"{float(f'{fraction * 100:.6g}'):g}%"


# how an indicator is called in srekit/v1 (`indicator: {events: ...}`), for tables and JSON
_INDICATOR_KINDS = {
    "EventsRatio": "events",
    "PromRatio": "ratio",
    "PromLatency": "latency",
    "PromErrorRatio": "error_ratio",
    "PromThreshold": "threshold",
}


def indicator_kind(indicator: object) -> str:
    """`events`, `ratio`, `latency`, `error_ratio` or `threshold`: the indicator's srekit/v1 key."""
    name = type(indicator).__name__
    return _INDICATOR_KINDS.get(name, name)


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no colour codes), for pipes and tools."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def emit(data: Any, output: OutputFormat) -> None:
    """JSON or YAML on stdout; tables are each command's own."""
    if output is OutputFormat.JSON:
        print_json(data)
    else:
        import yaml

        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
