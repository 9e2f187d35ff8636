"""The event store's tables: `events` (one row per request), `ingests` (one per file loaded),
`srekit_meta` (the schema version), and the columns predicates may use."""

from __future__ import annotations

from typing import Final

import duckdb

__all__ = ["EVENT_COLUMNS", "SCHEMA_VERSION", "create_schema"]

#: Columns of the `events` table, in order, with their DuckDB types. Predicates may use any.
EVENT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("ts", "TIMESTAMPTZ"),
    ("service", "VARCHAR"),
    ("status", "INTEGER"),
    ("duration_s", "DOUBLE"),
    ("method", "VARCHAR"),
    ("path", "VARCHAR"),
    ("query", "VARCHAR"),
    ("protocol", "VARCHAR"),
    ("client", "VARCHAR"),
    ("remote_user", "VARCHAR"),
    ("bytes", "BIGINT"),
    ("referer", "VARCHAR"),
    ("user_agent", "VARCHAR"),
    ("ingest_id", "INTEGER"),
)
SCHEMA_VERSION: Final = "1"
_NOT_NULL: Final = frozenset({"ts", "service", "ingest_id"})


def create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the tables that do not exist yet, and record the schema version."""
    columns = ", ".join(
        f"{name} {kind}{' NOT NULL' if name in _NOT_NULL else ''}" for name, kind in EVENT_COLUMNS
    )
    conn.execute("CREATE TABLE IF NOT EXISTS srekit_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    conn.execute(
        "INSERT INTO srekit_meta VALUES ('schema_version', $1) ON CONFLICT DO NOTHING",
        [SCHEMA_VERSION],
    )
    conn.execute(f"CREATE TABLE IF NOT EXISTS events ({columns})")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS ingests (id INTEGER PRIMARY KEY, service VARCHAR NOT NULL, "
        "source VARCHAR NOT NULL, format VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, "
        "lines BIGINT NOT NULL, events BIGINT NOT NULL, rejected BIGINT NOT NULL, "
        "ingested_at TIMESTAMPTZ NOT NULL)"
    )
