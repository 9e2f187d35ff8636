"""Canary analyses kept per service on SQLite and PostgreSQL: newest first, per service, the
document back as it was answered, the verdict's confidence the highest judged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from srekit.core.canary import Verdict
from srekit.errors import SpecError
from srekit.flows.canary_records import analysis_document, recent_analyses
from srekit.store.database import transaction
from srekit.store.repo.canary import record_canary_analysis
from tests.canary_records import AT, keep


def test_analyses_are_kept_per_service_newest_first(engine: Engine) -> None:
    first, document = keep(engine, "shop", Verdict.FAIL, (0.999, 0.6))
    second, _ = keep(engine, "shop", Verdict.PASS, (0.2, None), now=AT + timedelta(hours=1))
    other, _ = keep(engine, "cart", Verdict.INCONCLUSIVE, (None, None), now=AT + timedelta(hours=2))
    assert [a.id for a in recent_analyses(engine, service="shop")] == [second.id, first.id]
    assert [a.id for a in recent_analyses(engine)] == [other.id, second.id, first.id]
    assert [a.id for a in recent_analyses(engine, limit=1)] == [other.id]
    (stored,) = [a for a in recent_analyses(engine) if a.id == first.id]
    assert stored.document == document
    assert (stored.verdict, stored.confidence) == ("fail", 0.999)  # max(0.999, 0.6)
    assert (stored.canary, stored.baseline) == (
        '{app="shop",track="canary"}',
        '{app="shop",track="stable"}',
    )
    assert (stored.at, stored.window_s, stored.step_s, stored.recorded_at) == (AT, 1800, 60, AT)
    assert recent_analyses(engine, service="cart")[0].confidence is None
    shown = analysis_document(stored)
    assert (shown["recorded_at"], shown["analysis"]) == ("2026-11-01T00:00:00Z", document)


@pytest.mark.parametrize("service", ["Bad", "a b", "x" * 300, "\x00"])
def test_a_bad_service_name_is_refused_and_nothing_stored(engine: Engine, service: str) -> None:
    with pytest.raises(SpecError), transaction(engine) as session:
        record_canary_analysis(
            session, service=service, canary="{}", baseline="{}", at=AT, window_s=60,
            step_s=60, verdict="pass", confidence=None, document={}, actor="ci",
        )  # fmt: skip
    assert recent_analyses(engine) == []
