"""Applying a spec set at once: all or nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine

from srekit.errors import SpecError
from srekit.spec.loader import SpecSet
from srekit.store import repo
from srekit.store.database import transaction
from tests.store.repo.samples import AVAILABILITY, LATENCY, T0, audit


def test_a_failing_multi_slo_apply_stores_nothing(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a", now=T0)
    before = audit(engine)
    specs = SpecSet(
        slos=(
            replace(AVAILABILITY, objective=0.99),
            LATENCY,
            replace(LATENCY, name="latency-p99", owner="team-other"),
        )
    )
    with (
        pytest.raises(SpecError, match="a service belongs to one team"),
        transaction(engine) as session,
    ):
        repo.apply_specs(session, specs=specs, actor="b")
    # a failure part-way (here: in the store) rolls back what was already written
    specs = SpecSet(
        slos=(replace(AVAILABILITY, objective=0.99), LATENCY, replace(LATENCY, name="x" * 300))
    )
    with (
        pytest.raises(SpecError, match="at most 200 characters; got 300 characters"),
        transaction(engine) as session,
    ):
        repo.apply_specs(session, specs=specs, actor="b")
    with transaction(engine) as session:
        assert [row.key for row in repo.list_slos(session)] == ["checkout/availability"]
        assert repo.get_slo(session, service="checkout", name="availability").version == 1
    assert audit(engine) == before


def test_progress_is_told_each_slo_stored(engine: Engine) -> None:
    told: list[tuple[int, list[str]]] = []

    def stored(count: int) -> None:
        # what the transaction holds when it is told: the SLOs stored so far
        told.append((count, [row.key for row in repo.list_slos(session)]))

    specs = SpecSet(slos=(AVAILABILITY, LATENCY))
    with transaction(engine) as session:
        repo.apply_specs(session, specs=specs, actor="a", progress=stored)
    assert told == [
        (1, ["checkout/availability"]),
        (2, ["checkout/availability", "checkout/latency"]),
    ]
