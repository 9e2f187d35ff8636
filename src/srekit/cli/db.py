"""`srekit db upgrade|revision`: migrate the state store (SREKIT_DATABASE_URL; SQLite default)."""

from __future__ import annotations

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import console, errors_to_exit_codes

app = SrekitTyper(
    help="Manage the state store's schema.",
    epilog=examples("srekit db upgrade", "srekit db revision"),
    no_args_is_help=True,
)


@app.command(
    epilog=examples(
        "srekit db upgrade",
        "SREKIT_DATABASE_URL=sqlite:///.srekit/other.db srekit db upgrade",
    )
)
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to this srekit's schema (a deploy step on PostgreSQL)."""
    from srekit.store import database

    url = settings_of(ctx).effective_database_url
    with errors_to_exit_codes():
        engine = database.create_store_engine(url)
        try:
            before = database.current_revision(engine)
            after = database.upgrade(engine)
        finally:
            engine.dispose()
    where = database.safe_url(database.normalize_url(url))
    if before == after:
        console.print(f"{where}: already at revision {after}", highlight=False)
    else:
        console.print(f"{where}: upgraded {before or 'empty'} → {after}", highlight=False)


@app.command(epilog=examples("srekit db revision"))
def revision(ctx: typer.Context) -> None:
    """Print the database's schema revision and the one this srekit needs; exit 1 if behind."""
    from srekit.store import database

    url = settings_of(ctx).effective_database_url
    with errors_to_exit_codes():
        engine = database.create_store_engine(url)
        try:
            current = database.current_revision(engine)
        finally:
            engine.dispose()
    head = database.head_revision()
    console.print(
        f"{database.safe_url(database.normalize_url(url))}: revision {current or 'none'}"
        f" (srekit needs {head})",
        highlight=False,
    )
    raise typer.Exit(0 if current == head else 1)
