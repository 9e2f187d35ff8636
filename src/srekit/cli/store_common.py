"""What the commands reading or changing the state store share: opening it, the actor, output."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.options import OutputFormat, print_json

if TYPE_CHECKING:
    from sqlalchemy import Engine  # imported by the commands only: `--help` stays fast

__all__ = ["ActorOption", "FormatOption", "actor_or_user", "emit", "open_engine"]

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="SREKIT_ACTOR",
        help="who makes the change, for the audit log (default: the OS user)",
        show_default=False,
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format")]


def actor_or_user(actor: str | None) -> str:
    """`--actor`, else the OS login name: every change in the audit log names someone."""
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def open_engine() -> Iterator[Engine]:
    """The store at SREKIT_DATABASE_URL (SQLite under SREKIT_HOME by default), ready to use,
    and closed again however the command ends."""
    from srekit.config import Settings
    from srekit.store.database import open_store

    engine = open_store(Settings().effective_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def emit(data: Any, output: OutputFormat) -> None:
    """JSON or YAML on stdout; tables are each command's own."""
    if output is OutputFormat.JSON:
        print_json(data)
    else:
        import yaml

        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
