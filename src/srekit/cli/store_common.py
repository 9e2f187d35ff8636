"""What the commands reading or changing the state store share: opening it from the settings,
where it is (for messages), reading its SLOs when no spec file is given, and who acts, for
the audit log."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from srekit.cli.context import settings_of

if TYPE_CHECKING:  # imported by the commands only: `--help` stays fast
    from srekit.config import Settings
    from srekit.core.specs import SpecSet
    from srekit.store import StoreEngine, StoreSession

__all__ = [
    "actor_or_user",
    "existing_store",
    "open_engine",
    "store_location",
    "store_origin",
    "store_session",
    "stored_specs",
]


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


def store_location(settings: Settings) -> str:
    """Where the state store is, for messages: a SQLite file's path, else its URL with the
    password masked."""
    from srekit.store.database import safe_url, sqlite_file

    url = settings.effective_database_url
    file = sqlite_file(url)
    return str(file) if file is not None else safe_url(url)


def store_origin(settings: Settings) -> str:
    """Why srekit reads that store, in words: SREKIT_DATABASE_URL, SREKIT_HOME, or where the
    state directory was found without them (`Settings.home_origin`)."""
    if settings.database_url:
        return "from SREKIT_DATABASE_URL"
    origin = settings.home_origin
    return f"from {origin}" if origin == "SREKIT_HOME" else origin


@contextmanager
def existing_store(settings: Settings) -> Iterator[StoreEngine | None]:
    """The state store, opened as `open_engine` opens it; None when it is a SQLite file that
    does not exist: looking is no reason to create a store."""
    from srekit.store.database import sqlite_file

    file = sqlite_file(settings.effective_database_url)
    if file is not None and not file.is_file():
        yield None
        return
    with open_engine(settings) as engine:
        yield engine


def stored_specs(ctx: typer.Context, *, announce: bool = True) -> SpecSet:
    """The SLOs and policies of the state store, read when a command is given neither --file
    nor --server; said on stderr (`announce`). Exit 2, saying where srekit looked and how to
    reach what holds SLOs, when the store does not exist or holds none."""
    from srekit.cli.options import errors_to_exit_codes
    from srekit.cli.remote import nothing_to_read, reading_from
    from srekit.flows.evaluate import stored_specs as read_stored

    settings = settings_of(ctx)
    where = store_location(settings)
    with errors_to_exit_codes(), existing_store(settings) as engine:
        specs = read_stored(engine) if engine is not None else None
    if specs is None or not specs.slos:
        nothing_to_read(where, origin=store_origin(settings))
    if announce:
        reading_from(f"the store at {where}")
    return specs
