"""Alembic's entry point for srekit's migrations, configured by `srekit.store.database`.

`database.upgrade()` passes an open connection in `config.attributes["connection"]`; developers
writing a revision may instead set `sqlalchemy.url` (`alembic -x` is not needed).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from srekit.store.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    with create_engine(url).begin() as own_connection:
        _run(own_connection)


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    _run_online()
