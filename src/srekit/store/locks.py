"""PostgreSQL advisory locks, the one place srekit takes them: `LeaderLock`, which one replica
holds for as long as it lives (the evaluator's leadership), and `lock_transaction`, which a
transaction waits for (replicas starting together migrate one at a time).

Every replica must use the same key for the same lock, and different locks different keys. On
SQLite, which serves one process, there is nothing to lock against: a LeaderLock always leads
and `lock_transaction` does nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from srekit.store._failures import store_errors

__all__ = ["LeaderLock", "lock_transaction"]

logger = logging.getLogger(__name__)


def lock_transaction(connection: Connection, *, key: int) -> None:
    """Wait for the advisory lock `key`, held until `connection`'s transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


class LeaderLock:
    """A session-level advisory lock, held on a connection of its own (AUTOCOMMIT: it leaves no
    transaction open) until `release()` or until that connection drops.

    Held for the life of the process rather than per unit of work: per-unit locks would let
    replicas whose loops are out of phase take turns. When the holder exits or its connection
    drops, PostgreSQL releases the lock and another replica's `try_acquire` takes it. Not
    thread-safe: the caller runs one `try_acquire` or `release` at a time. `name` only labels
    log lines.
    """

    def __init__(self, engine: Engine, *, key: int, name: str) -> None:
        self.engine = engine
        self.key = key
        self.name = name
        self._connection: Connection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this process held the lock at the last `try_acquire` (and has not released
        it since)."""
        return self._held

    def try_acquire(self) -> bool:
        """Whether this process leads: always on SQLite; on PostgreSQL while it holds the lock,
        taken here when free. A held lock's connection is checked first: when it has dropped,
        the lock is gone with it and is taken again only if still free. StoreUnavailable when
        the store cannot be reached."""
        if self.engine.dialect.name != "postgresql":
            self._held = True
            return True
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError as error:
                # The session, and with it the lock, is gone: another replica may have it now.
                logger.warning("lost the %s lock's connection: %s", self.name, error.orig)
                self._drop(unlock=False)
        with store_errors(self.engine):
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = bool(
                    connection.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                    ).scalar_one()
                )
            except BaseException:
                connection.invalidate()
                connection.close()
                raise
        if not taken:
            connection.close()
            return False
        logger.info("this replica now holds the %s lock", self.name)
        self._connection = connection
        self._held = True
        return True

    def release(self) -> None:
        """Let go of the lock (another replica takes it at its next `try_acquire`)."""
        self._drop(unlock=True)

    def _drop(self, *, unlock: bool) -> None:
        connection, self._connection = self._connection, None
        self._held = False
        if connection is None:
            return
        try:
            if unlock:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            else:
                connection.invalidate()
        except DBAPIError:
            # A pooled connection must not go back to the pool still holding the lock.
            connection.invalidate()
        finally:
            connection.close()
