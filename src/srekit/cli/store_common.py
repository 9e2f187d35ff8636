"""What the commands reading or changing the state store share: opening it from the settings,
and who acts, for the audit log."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the commands only: `--help` stays fast
    from srekit.config import Settings
    from srekit.store import StoreEngine

__all__ = ["actor_or_user", "open_engine"]


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
