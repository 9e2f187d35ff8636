"""The load gate's use cases on a real store (SQLite and PostgreSQL): import, baseline, gate
against the newest or a named baseline, and the deploy gate's load-test requirement read
through the stored catalog."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.core.load_gate import (
    DURATION,
    FAILED,
    REQUESTS,
    CheckOutcome,
    GateRules,
    LoadSummary,
    LoadTestPolicy,
    MetricSummary,
)
from srekit.core.policy import DEFAULT_POLICY, Decision
from srekit.errors import NotFound
from srekit.flows.gate import (
    GateQuestion,
    GateRequest,
    catalog_version,
    decide_stored,
    load_catalog,
    read_request,
)
from srekit.flows.load_gate import (
    gate_run,
    import_run,
    judge,
    make_baseline,
    run_document,
    service_baselines,
    service_runs,
    verdict_document,
)
from srekit.store.database import transaction
from srekit.store.repo import upsert_service, upsert_team

AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def summary(p95: float, *, requests: float = 2000, rate: float = 40.0) -> LoadSummary:
    return LoadSummary(
        "k6",
        (
            MetricSummary(DURATION, p95=p95, p99=p95 * 1.5),
            MetricSummary(REQUESTS, count=requests, rate=rate),
            MetricSummary(FAILED, count=requests, rate=0.001),
        ),
    )


def test_baselines_and_gates(engine: Engine) -> None:
    first = import_run(
        engine, service="api", summary=summary(100.0), source="a.json", actor="ci", now=AT
    )
    assert (first.verdict, first.passed, first.summary) == (None, None, summary(100.0))
    # no baseline yet: absolute limits only
    alone = gate_run(
        engine,
        service="api",
        summary=summary(500.0),
        source="b.json",
        rules=GateRules(),
        actor="ci",
        now=AT,
    )
    assert (alone.baseline_version, alone.verdict.outcome) == (None, CheckOutcome.PASS)
    assert make_baseline(engine, service="api", run_id=first.id, actor="ana", now=AT).version == 1
    # +25 % over the baseline's 100 ms: a regression, recorded as failed
    slower = gate_run(
        engine,
        service="api",
        summary=summary(125.0),
        source="c.json",
        rules=GateRules(),
        actor="ci",
        now=AT + timedelta(hours=1),
    )
    assert slower.baseline_version == 1
    assert slower.verdict.outcome is CheckOutcome.FAIL
    p95 = next(c for c in slower.verdict.checks if c.check == "p95")
    assert (p95.baseline, p95.current) == (100.0, 125.0)
    assert p95.limit == pytest.approx(120.0)
    assert make_baseline(engine, service="api", run_id=alone.run_id or 0, actor="ana", now=AT)
    # the newest baseline (500 ms) is the default; version 1 can still be named
    newest = judge(engine, service="api", summary=summary(125.0), rules=GateRules())
    assert (newest.baseline_version, newest.verdict.passed) == (2, True)
    named = judge(
        engine, service="api", summary=summary(125.0), rules=GateRules(), baseline_version=1
    )
    assert (named.baseline_version, named.verdict.passed) == (1, False)
    with pytest.raises(NotFound, match="api has no load-test baseline version 7"):
        judge(engine, service="api", summary=summary(1.0), rules=GateRules(), baseline_version=7)
    unstored = gate_run(
        engine,
        service="api",
        summary=summary(1.0),
        source="d.json",
        rules=GateRules(),
        actor="ci",
        now=AT,
        record=False,
    )
    assert unstored.run_id is None
    runs = service_runs(engine, service="api")
    assert [(r.id, r.verdict, r.passed) for r in runs] == [
        (slower.run_id, "fail", False),
        (alone.run_id, "pass", True),
        (first.id, None, None),
    ]
    assert runs[0].checks[-4]["check"] == "p95"
    assert [b.version for b in service_baselines(engine, service="api")] == [2, 1]
    document = run_document(runs[0])
    assert document["recorded_at"] == "2026-12-02T11:00:00Z"
    assert document["summary"]["requests"] == 2000
    verdict = verdict_document(slower)
    assert (verdict["outcome"], verdict["passed"], verdict["baseline_version"]) == (
        "fail",
        False,
        1,
    )


def _question() -> GateQuestion:
    question = read_request(GateRequest(service="api", change_type="feature"))
    assert isinstance(question, GateQuestion)
    return question


def test_the_deploy_gate_requires_a_recent_passed_load_test(engine: Engine) -> None:
    with transaction(engine) as session:
        upsert_team(session, name="core", actor="ana")
        upsert_service(session, name="api", team="core", actor="ana")
    policy = LoadTestPolicy(required_for=("feature",), max_age_days=7)
    before = catalog_version(engine)

    def decide(now: datetime, load_test: LoadTestPolicy = policy) -> tuple[bool, str]:
        catalog = load_catalog(engine)
        # no SLOs: the default policy's no_data would deny; allow it to isolate the load test
        catalog = replace(
            catalog,
            policies={"default": replace(DEFAULT_POLICY, no_data=Decision.ALLOW)},
        )
        decision, _ = decide_stored(
            _question(),
            catalog=catalog,
            statuses=[],
            open_severe_incidents=(),
            now=now,
            load_test=load_test,
        )
        return decision.allowed, decision.reasons[0]

    allowed, reason = decide(AT)
    assert not allowed
    assert reason == "feature deploys need a passed load test and api has none in the last 7 days"
    assert decide(AT, LoadTestPolicy())[0]  # not required: the budget alone decides
    gate_run(
        engine,
        service="api",
        summary=summary(80.0),
        source="run.json",
        rules=GateRules(),
        actor="ci",
        now=AT,
    )
    assert catalog_version(engine) != before  # a recorded run reloads the gate's catalog
    assert decide(AT + timedelta(days=7))[0]
    late, why = decide(AT + timedelta(days=8))
    assert not late
    assert "within 7 days" in why
