"""A real Prometheus scrapes a real srekit server (with a viewer token, every second) and
answers, in PromQL, what `/api/v1/status` says: the budget, the documented pre-deployment
check and the documented burn-rate alert (docs/metrics.md), which also loads as a rule file."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine

from srekit.core.budget import ErrorBudget
from srekit.core.status import DataState, SloStatus
from tests.api.conftest import FakeEvaluator, make_app, make_tokens, status_for
from tests.integration.prometheus_fixture import PrometheusServer, require_binary
from tests.rules.promtool import promtool
from tests.served import serving

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
_BLOCK = re.compile(r"```(promql|yaml)\n(.*?)```", re.DOTALL)


def _documented(kind: str, marker: str) -> str:
    """The docs' code block of `kind` that holds `marker`."""
    blocks = [text for found, text in _BLOCK.findall(DOCS.read_text()) if found == kind]
    chosen: list[str] = [text for text in blocks if marker in text]
    assert len(chosen) == 1, f"docs/metrics.md: one ```{kind} block with {marker!r}"
    return chosen[0]


@pytest.fixture
def served(sqlite_engine: Engine, tmp_path: Path) -> Iterator[tuple[str, str, FakeEvaluator]]:
    """srekit's app under uvicorn on 127.0.0.1, statuses set by the test: (host:port, viewer
    token, evaluator)."""
    evaluator = FakeEvaluator()
    token = make_tokens(sqlite_engine)["viewer"]
    with serving(make_app(sqlite_engine, evaluator, tmp_path)) as address:
        yield address, token, evaluator


@pytest.fixture
def prometheus_scraping(
    served: tuple[str, str, FakeEvaluator], tmp_path: Path
) -> Iterator[tuple[PrometheusServer, FakeEvaluator, str]]:
    for binary in ("prometheus", "promtool"):
        try:
            require_binary(binary)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
    target, token, evaluator = served
    rules = tmp_path / "srekit-slo-burn.yml"
    rules.write_text(_documented("yaml", "groups:"))
    prometheus = PrometheusServer(
        tmp_path / "data",
        tmp_path / "prometheus",
        scrape_configs=[
            {
                "job_name": "srekit",
                "scrape_interval": "1s",
                "authorization": {"credentials": token},
                "static_configs": [{"targets": [target]}],
            }
        ],
        rule_files=[rules],
    )
    prometheus.start()
    try:
        yield prometheus, evaluator, target
    finally:
        prometheus.stop()


def _query(prometheus: PrometheusServer, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": expr}, timeout=10)
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def _until(prometheus: PrometheusServer, expr: str, expected: object) -> list[dict[str, Any]]:
    """The query's result, polled until `{labels → value}` of it equals `expected` (30 s)."""
    deadline = time.monotonic() + 30
    while True:
        result = _query(prometheus, expr)
        found = {
            tuple(sorted((k, v) for k, v in r["metric"].items() if k != "__name__")): float(
                r["value"][1]
            )
            for r in result
        }
        if found == expected or time.monotonic() > deadline:
            assert found == expected, (expr, result)
            return result
        time.sleep(0.25)


def _burning(status: SloStatus, **rates: float) -> SloStatus:
    return replace(status, burn_rates={**status.burn_rates, **rates})


def test_prometheus_reads_the_budget_the_check_and_the_alert(
    prometheus_scraping: tuple[PrometheusServer, FakeEvaluator, str],
) -> None:
    prometheus, evaluator, target = prometheus_scraping
    scraped = (("instance", target), ("job", "srekit"))
    now = datetime.now(UTC)
    availability = status_for("checkout", "availability", 0.625, at=now)
    latency = status_for("checkout", "latency", 0.25, at=now)
    search = status_for("search", "availability", 0.5, at=now)
    evaluator.statuses = [availability, latency, search]

    checkout = (("service", "checkout"),)
    budget = 'srekit_slo_error_budget_remaining_ratio{service="checkout"}'
    _until(
        prometheus,
        budget,
        {
            (*scraped, *checkout, ("slo", s)): v
            for s, v in (("availability", 0.625), ("latency", 0.25))
        },
    )
    check = _documented("promql", "min by (service)")
    _until(prometheus, check, {checkout: 0.25})  # the smallest budget left: go

    evaluator.statuses = [availability, replace(latency, data=DataState.STALE), search]
    _until(prometheus, check, {})  # stale figures: stop
    spent = replace(
        latency, error_budget=ErrorBudget(remaining=-0.5, consumed=1.5, allowed_bad_events=None)
    )
    evaluator.statuses = [availability, spent, search]
    _until(prometheus, check, {})  # a budget overspent: stop
    evaluator.statuses = [availability, search]  # the SLO deleted: its series leave
    _until(prometheus, check, {checkout: 0.625})

    rules = yaml.safe_load(_documented("yaml", "groups:"))["groups"][0]["rules"]
    fast = next(rule["expr"] for rule in rules if rule["alert"] == "ErrorBudgetBurnFast")
    evaluator.statuses = [
        _burning(availability, **{"1h": 20.0, "5m": 30.0}),
        _burning(latency, **{"1h": 20.0, "5m": 1.0}),  # the short window has recovered
        search,
    ]
    _until(
        prometheus,
        fast,
        {
            (
                *scraped,
                *checkout,
                ("slo", "availability"),
                ("window", "1h"),
            ): 20.0
        },
    )
    missing = next(rule["expr"] for rule in rules if rule["alert"] == "SrekitSloFiguresMissing")
    _until(prometheus, missing, {})
    evaluator.fail = RuntimeError("the store is gone")
    _until(
        prometheus,
        missing,
        {scraped: 0.0},
    )
    loaded = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert [rule["name"] for rule in loaded[0]["rules"]] == [rule["alert"] for rule in rules]


def test_the_documented_alert_rules_pass_promtool(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(_documented("yaml", "groups:"))
    result = promtool("check", "rules", rules)
    assert result.returncode == 0, result.stdout + result.stderr
