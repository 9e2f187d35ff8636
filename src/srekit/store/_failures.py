"""How driver errors become srekit's, for every store module, so nothing outside the store sees
SQLAlchemy: a constraint refusal is a Conflict, a value the database cannot hold a SpecError,
a failing or lost connection StoreUnavailable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError

from srekit.errors import Conflict, SpecError, StoreUnavailable

__all__ = ["busy", "busy_message", "public_cause", "safe_url", "store_errors"]

# an absolute path: a / not inside a word or a URL's //, up to a space or a quote
_PATH = re.compile(r"(?<![\w:/.~-])/[^\s\"',;:]*")


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def busy_message(engine: Engine, timeout_s: float) -> str:
    """Why a SQLite write was given up: the store is overloaded, not down; retrying is safe."""
    return (
        f"the state store at {safe_url(engine.url)} is busy: database is locked (a write waits"
        f" up to {timeout_s:g} s for the others); nothing was written, retry"
    )


def busy(engine: Engine, timeout_s: float) -> StoreUnavailable:
    """The error for a write given up on a busy SQLite store; the API's answer (`public`)
    says it without the database's file path."""
    message = busy_message(engine, timeout_s)
    return StoreUnavailable(message, public=message.replace(f" at {safe_url(engine.url)}", ""))


@contextmanager
def store_errors(engine: Engine) -> Iterator[None]:
    """Raise srekit's errors for the driver errors raised in the block.

    Other database errors (a query the database refuses) are bugs and pass through unchanged.
    """
    try:
        yield
    except IntegrityError as error:
        raise Conflict(f"the store refused the change: {error.orig}") from error
    except DataError as error:  # e.g. a value PostgreSQL cannot store (a NUL byte)
        raise SpecError(str(error.orig).splitlines()[0]) from error
    except (OperationalError, InterfaceError) as error:
        if engine.dialect.name == "sqlite" and "database is locked" in str(error.orig):
            from srekit.store.database import BUSY_TIMEOUT_S

            raise busy(engine, BUSY_TIMEOUT_S) from error
        raise StoreUnavailable(
            f"the state store at {safe_url(engine.url)} failed: {error.orig}",
            public=f"the state store failed: {public_cause(error.orig)}",
        ) from error
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        raise StoreUnavailable(
            f"the state store connection was lost: {error.orig}",
            public=f"the state store connection was lost: {public_cause(error.orig)}",
        ) from error


def public_cause(cause: object) -> str:
    """The first line of a driver's message with file paths (a SQLite file, a PostgreSQL
    socket) left out, for API answers."""
    return _PATH.sub("<path>", str(cause).strip().split("\n", 1)[0])
