"""What the commands reading or changing the state store share: opening it from the settings,
and who acts, for the audit log."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from srekit.cli.context import settings_of

if TYPE_CHECKING:  # imported by the commands only: `--help` stays fast
    from srekit.config import Settings
    from srekit.store import StoreEngine, StoreSession

__all__ = ["actor_or_user", "open_engine", "store_session"]


def actor_or_user(actor: str | None) -> str:
    """`--actor`, else the OS login name: every change in the audit log names someone."""
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def open_engine(settings: Settings) -> Iterator[StoreEngine]:
    """The store at SREKIT_DATABASE_URL (SQLite under SREKIT_HOME by default), ready to use,
    and closed again however the command ends."""
    from srekit.store.database import open_store

    engine = open_store(settings.effective_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def store_session(ctx: typer.Context, *, read_only: bool = False) -> Iterator[StoreSession]:
    """One transaction on the store the settings name, committed when the block ends (a
    read-only one reads beside a running server's writers)."""
    from srekit.store.database import transaction

    with (
        open_engine(settings_of(ctx)) as engine,
        transaction(engine, read_only=read_only) as session,
    ):
        yield session
