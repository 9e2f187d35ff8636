"""Every stored SLO's latest status, as the API and the gate read it: the newest snapshot
of each, aged to now, and an `error` for an SLO no evaluation has reached yet."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from srekit.core.slo import SLO
from srekit.core.status import SloStatus, current_statuses
from srekit.errors import SpecError
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo import latest_snapshots, list_slos, newest_audit_id, newest_snapshot_id

__all__ = ["StoredStatuses", "latest_statuses", "status_version"]

logger = logging.getLogger(__name__)


def latest_statuses(
    engine: StoreEngine,
    *,
    max_age_s: float,
    service: str | None = None,
    now: datetime | None = None,
) -> list[SloStatus]:
    """Every stored SLO's (or `service`'s) newest snapshot as a status, by service then name.

    A snapshot older than `max_age_s` is `stale` (whoever evaluates is behind or gone); an SLO
    never evaluated is an `error`, so a fail-closed gate does not pass it unseen
    (`core.status.current_statuses`).
    """
    moment = now if now is not None else datetime.now(UTC)
    slos: list[SLO] = []
    with transaction(engine, read_only=True) as session:
        latest = {
            key: row.to_status() for key, row in latest_snapshots(session, service=service).items()
        }
        for row in list_slos(session, service=service):
            try:
                slos.append(row.to_slo())
            except SpecError as error:
                logger.error("stored SLO %s cannot be read: %s", row.key, error)
    return current_statuses(slos, latest, now=moment, max_age_s=max_age_s)


def status_version(engine: StoreEngine) -> object:
    """Moves whenever `latest_statuses` may answer differently: a round recorded snapshots, or
    SLOs were created, changed or deleted (every such change writes the audit log). The newest
    snapshot's id alone is not enough: deleting an SLO deletes its snapshots, and SQLite then
    gives the next round's snapshot an id already seen, so a deleted SLO would linger."""
    with transaction(engine, read_only=True) as session:
        return newest_snapshot_id(session), newest_audit_id(session)


class StoredStatuses:
    """Statuses from the newest snapshots in the store: what a server that runs no evaluator
    of its own reads (another process evaluates). Snapshots older than `max_age_s` are stale."""

    def __init__(self, engine: StoreEngine, *, max_age_s: float) -> None:
        self.engine = engine
        self.max_age_s = max_age_s

    def status_version(self) -> object:
        return status_version(self.engine)

    def latest_statuses(self, service: str | None = None) -> list[SloStatus]:
        return latest_statuses(self.engine, max_age_s=self.max_age_s, service=service)
