"""What the SLO detail page reads of the store: the SLO's current spec, its team and every
version applied (the same rows `GET /api/v1/slos/{service}/{name}` serves). NotFound when the
SLO is not stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from srekit.store import StoreEngine
from srekit.store.database import transaction

__all__ = ["SloSpecVersion", "StoredSlo", "stored_slo"]


@dataclass(frozen=True)
class SloSpecVersion:
    """One applied version: its number, when and by whom, what changed, the spec then."""

    version: int
    applied_at: datetime
    applied_by: str
    source_file: str | None
    changes: tuple[str, ...]
    spec: dict[str, Any]


@dataclass(frozen=True)
class StoredSlo:
    service: str
    name: str
    team: str | None
    version: int
    spec: dict[str, Any]
    versions: tuple[SloSpecVersion, ...]


def stored_slo(engine: StoreEngine, *, service: str, name: str) -> StoredSlo:
    """The stored SLO `service/name` with its versions, newest first (NotFound otherwise)."""
    from srekit.store.repo import get_slo, readable_spec, slo_versions

    with transaction(engine, read_only=True) as session:
        row = get_slo(session, service=service, name=name)
        versions = [
            SloSpecVersion(
                version=version.version,
                applied_at=version.applied_at,
                applied_by=version.applied_by,
                source_file=version.source_file,
                changes=version.changes,
                spec=version.spec(),
            )
            for version in slo_versions(session, service=service, name=name)
        ]
        return StoredSlo(
            service=row.service.name,
            name=row.name,
            team=row.service.team.name if row.service.team else None,
            version=row.version,
            spec=readable_spec(row),
            versions=tuple(reversed(versions)),
        )
