"""Secrets the servers share, made on first use: one per name, whoever asks first.

Two servers starting together must end with the same secret, or links one signs would fail
on the other: each inserts a random value unless the name exists (INSERT … ON CONFLICT DO
NOTHING: the second waits for the first's transaction, then inserts nothing), then reads
the one stored. Not audited: no one changes these, and the audit log must not hold them.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from srekit.store.repo._base import core_connection, table_of, when
from srekit.store.tables import ServerSecretRow

__all__ = ["ACK_LINK_SECRET", "server_secret"]

#: The secret that signs acknowledgement links.
ACK_LINK_SECRET = "ack-link"
_SECRET_BYTES = 32
_SECRETS = table_of(ServerSecretRow)
_INSERT_NEW = {
    "postgresql": postgresql.insert(_SECRETS).on_conflict_do_nothing(index_elements=["name"]),
    "sqlite": sqlite.insert(_SECRETS).on_conflict_do_nothing(index_elements=["name"]),
}


def server_secret(session: Session, *, name: str, now: datetime | None = None) -> bytes:
    """The secret called `name`: 32 random bytes, stored the first time it is asked for."""
    connection = core_connection(session)
    found = connection.execute(select(_SECRETS.c.value).where(_SECRETS.c.name == name)).scalar()
    if found is None:
        connection.execute(
            _INSERT_NEW[connection.dialect.name],
            {"name": name, "value": secrets.token_hex(_SECRET_BYTES), "created_at": when(now)},
        )
        found = connection.execute(
            select(_SECRETS.c.value).where(_SECRETS.c.name == name)
        ).scalar_one()
    return bytes.fromhex(found)
