"""SLOs and times the repo tests share, and the audit trail as (action, entity) pairs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from srekit.core.slo import SLO, EventsRatio, PromLatency
from srekit.core.window import RollingWindow
from srekit.store import repo
from srekit.store.database import transaction

__all__ = ["AVAILABILITY", "LATENCY", "T0", "T1", "audit"]

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 2, tzinfo=UTC)

AVAILABILITY = SLO(
    service="checkout",
    name="availability",
    objective=0.999,
    window=RollingWindow(2592000),
    indicator=EventsRatio(good="status < 500"),
    owner="team-payments",
    source_file="slos/checkout.yaml",
)
LATENCY = SLO(
    service="checkout",
    name="latency",
    objective=0.95,
    window=RollingWindow(604800),
    indicator=PromLatency(metric="http_request_duration_seconds", threshold_s=0.3),
)


def audit(engine: Engine) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        return [(row.action, row.entity_id) for row in reversed(repo.list_audit(session))]
