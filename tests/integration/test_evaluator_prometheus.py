"""The background evaluator against a real Prometheus: what it stores is what `srekit status`
computes from the same source at the same instant.

Here rather than in tests/jobs: it shares this directory's session-wide Prometheus.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from srekit.config import Settings
from srekit.contracts import status_document
from srekit.core.sli import SourceSet
from srekit.core.status import DataState
from srekit.flows.evaluate import evaluate_statuses
from srekit.jobs.evaluator import Evaluator
from srekit.sources.prometheus import PrometheusSource
from srekit.store import repo
from srekit.store.database import transaction
from tests.integration.prometheus_fixture import END, Backfilled
from tests.integration.slos import availability, latency

pytestmark = pytest.mark.integration

SLOS = [availability("checkout"), latency("checkout"), availability("search")]
AT = END - timedelta(hours=1)


def test_stored_snapshots_match_a_direct_evaluation(prometheus: Backfilled, engine: Engine) -> None:
    with transaction(engine) as session:
        for slo in SLOS:
            repo.apply_slo(session, slo=slo, actor="alice")

    def sources() -> SourceSet:
        return SourceSet(prometheus=PrometheusSource(prometheus.url))

    evaluator = Evaluator(engine, Settings(), sources)
    try:
        report = evaluator.run_once(at=AT)
    finally:
        evaluator.close()
    assert (report.evaluated, report.recorded, report.source_failures) == (True, 3, {})

    with PrometheusSource(prometheus.url) as source:
        direct = evaluate_statuses(
            SLOS,
            at=AT,
            sources=SourceSet(prometheus=source),
            policies={},
        )
    expected = {(s.service, s.slo): s for s in direct}
    assert all(s.data is DataState.OK and s.sli is not None for s in direct)

    with transaction(engine) as session:
        stored = {key: row.to_status() for key, row in repo.latest_snapshots(session).items()}
    assert stored.keys() == expected.keys()
    for key, status in stored.items():
        assert status.sli == expected[key].sli
        assert status_document(status) == status_document(expected[key])
