"""The state store: SQLAlchemy tables, Alembic migrations, the repo functions that read and
change them (`store.repo`), and the advisory locks replicas share (`store.locks`).

Only the store touches SQLAlchemy: it raises srekit's errors (`Conflict`, `StoreUnavailable`),
and callers name an engine `StoreEngine` and a session `StoreSession` rather than importing
SQLAlchemy's.
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy import Engine
from sqlalchemy.orm import Session

__all__ = ["StoreEngine", "StoreSession"]

StoreEngine: TypeAlias = Engine
"""A connection pool to the store, as `database.create_store_engine` builds it."""

StoreSession: TypeAlias = Session
"""One transaction's view of the store, as `database.transaction` yields it."""
