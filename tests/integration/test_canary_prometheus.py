"""Canary analysis against a real Prometheus serving a generated canary history
(`tests/canary_data.py`): the per-interval values it reads, and so its U statistics and
p-values, must be those computed from the generated counts; a worse canary fails, an equal
one passes, a trickle of traffic is inconclusive. And the CLI's exit codes and JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from scipy.stats import mannwhitneyu
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.config import Settings
from srekit.core.canary import CanaryMetric, CanaryPlan, CanaryReport, Verdict, plan_analysis
from srekit.core.instant import format_instant
from srekit.flows.canary import analyze_canary, prometheus_querier, report_document
from tests.canary_data import AT, error_rates, quantiles, serve_canary_history
from tests.integration.prometheus_fixture import Backfilled

pytestmark = pytest.mark.integration

ALL = (CanaryMetric.ERROR_RATE, CanaryMetric.LATENCY_P95, CanaryMetric.LATENCY_P99)
runner = CliRunner()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    with serve_canary_history(tmp_path_factory.mktemp("canary-prometheus")) as backfilled:
        yield backfilled


def _analyze(
    history: Backfilled, canary: str, *, window_s: int = 1800, step_s: int = 60
) -> tuple[CanaryPlan, CanaryReport]:
    plan = plan_analysis(
        canary=f'app="shop",track="{canary}"',
        baseline='app="shop",track="stable"',
        window_s=window_s,
        step_s=step_s,
        metrics=ALL,
    )
    with prometheus_querier(Settings(), history.url) as querier:
        report = analyze_canary(querier, plan, at=AT)
    return plan, report


def _expected(
    history: Backfilled, track: str, metric: CanaryMetric, window_s: int, step_s: int
) -> list[float]:
    dataset = history.dataset
    if metric is CanaryMetric.ERROR_RATE:
        values = error_rates(dataset, track, window_s, step_s)
    else:
        q = 0.95 if metric is CanaryMetric.LATENCY_P95 else 0.99
        values = quantiles(dataset, track, q, window_s, step_s)
    return [value for value in values if value is not None]


@pytest.mark.parametrize(("canary", "verdict"), [("worse", Verdict.FAIL), ("same", Verdict.PASS)])
def test_figures_match_the_generated_counts(
    history: Backfilled, canary: str, verdict: Verdict
) -> None:
    _, report = _analyze(history, canary)
    assert report.verdict is verdict
    for result in report.metrics:
        assert result.verdict is verdict, result
        canary_values = _expected(history, canary, result.metric, 1800, 60)
        baseline_values = _expected(history, "stable", result.metric, 1800, 60)
        assert (result.canary_intervals, result.baseline_intervals) == (30, 30)
        assert len(canary_values) == len(baseline_values) == 30
        oracle = mannwhitneyu(canary_values, baseline_values, alternative="greater")
        assert result.u == pytest.approx(float(oracle.statistic))
        assert result.p_value == pytest.approx(float(oracle.pvalue), rel=1e-6)
        assert result.canary_mean == pytest.approx(sum(canary_values) / 30)
        assert result.baseline_mean == pytest.approx(sum(baseline_values) / 30)
    if verdict is Verdict.FAIL:
        error_rate = report.metrics[0]
        assert error_rate.confidence is not None
        assert error_rate.confidence > 0.999
        assert error_rate.canary_mean is not None
        assert 0.03 < error_rate.canary_mean < 0.07  # 5 % errors generated


def test_too_little_traffic_is_inconclusive(history: Backfilled) -> None:
    _, report = _analyze(history, "trickle")
    assert report.verdict is Verdict.INCONCLUSIVE
    for result in report.metrics:
        assert result.verdict is Verdict.INCONCLUSIVE
        assert result.canary_intervals == 0  # 3 requests a minute, 20 needed
        assert result.baseline_intervals == 30
        assert "the canary has 0 intervals" in result.reason


def test_a_selector_matching_nothing_is_inconclusive(history: Backfilled) -> None:
    _, report = _analyze(history, "nonexistent")
    assert report.verdict is Verdict.INCONCLUSIVE


def test_a_longer_step(history: Backfilled) -> None:
    _, report = _analyze(history, "worse", window_s=3600, step_s=120)
    error_rate = report.metrics[0]
    expected = _expected(history, "worse", CanaryMetric.ERROR_RATE, 3600, 120)
    assert error_rate.canary_intervals == len(expected) == 30
    assert error_rate.canary_mean == pytest.approx(sum(expected) / 30)


def _cli(history: Backfilled, canary: str, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        [
            "canary",
            "analyze",
            "--prometheus",
            history.url,
            "--canary",
            f'app="shop",track="{canary}"',
            "--baseline",
            '{app="shop", track="stable"}',
            "--window",
            "30m",
            "--at",
            format_instant(AT),
            *extra,
        ],
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("canary", "extra", "code", "verdict"),
    [
        ("same", (), 0, "pass"),
        ("worse", (), 1, "fail"),
        ("trickle", (), 3, "inconclusive"),
        ("trickle", ("--allow-inconclusive",), 0, "inconclusive"),
        # a tolerance wide enough lets the worse canary's error rate and latency pass
        ("worse", ("--tolerance", "error-rate=20:0", "--tolerance", "latency-p95=10"), 0, "pass"),
    ],
)
def test_cli_exit_codes_and_json(
    history: Backfilled, canary: str, extra: tuple[str, ...], code: int, verdict: str
) -> None:
    exit_code, stdout, stderr = _cli(history, canary, "--format", "json", *extra)
    assert exit_code == code, stderr
    document = json.loads(stdout)
    assert document["verdict"] == verdict
    assert document["canary"] == f'{{app="shop",track="{canary}"}}'
    assert document["baseline"] == '{app="shop",track="stable"}'
    assert document["at"] == "2026-11-01T00:00:00Z"
    assert (document["window_s"], document["step_s"]) == (1800, 60)
    assert [metric["metric"] for metric in document["metrics"]] == ["error-rate", "latency-p95"]


def test_cli_json_is_the_flow_document(history: Backfilled) -> None:
    plan, report = _analyze(history, "worse")
    exit_code, stdout, _ = _cli(
        history, "worse", "--format", "json", *(f"--metric={metric}" for metric in ALL)
    )
    assert exit_code == 1
    assert json.loads(stdout) == json.loads(json.dumps(report_document(report, plan, at=AT)))


def test_cli_table(history: Backfilled) -> None:
    exit_code, stdout, _ = _cli(history, "worse")
    assert exit_code == 1
    assert stdout.startswith('FAIL canary {app="shop",track="worse"} against baseline')
    # the means as a percentage with 4 significant digits, from the generated counts
    canary, baseline = (
        _expected(history, track, CanaryMetric.ERROR_RATE, 1800, 60)
        for track in ("worse", "stable")
    )
    figures = [f"{sum(values) / 30 * 100:.4g}%" for values in (canary, baseline)]
    row = r"\s+".join(["error-rate", "fail", r"1\.0000", *map(re.escape, figures)])
    assert re.search(rf"^{row}\s+\S+\s+30/30\s", stdout, re.MULTILINE), stdout
    assert re.search(r"^latency-p95\s+fail\s", stdout, re.MULTILINE)


def test_cli_query_prometheus_refuses_is_bad_input(history: Backfilled) -> None:
    exit_code, _, stderr = _cli(history, "same", "--errors-matchers", 'code=~"("')
    assert exit_code == 2
    assert "Prometheus refused the query" in stderr


def test_record_keeps_the_analysis_in_the_store(history: Backfilled, tmp_path: Path) -> None:
    from srekit.flows.canary_records import recent_analyses
    from srekit.store.database import create_store_engine

    env = {"SREKIT_HOME": str(tmp_path), "SREKIT_DATABASE_URL": "", "SREKIT_ACTOR": "ci"}
    common = [
        "canary", "analyze", "--prometheus", history.url, "--baseline", 'app="shop",track="stable"',
        "--at", format_instant(AT),
    ]  # fmt: skip
    worse = runner.invoke(
        app,
        [*common, "--canary", 'app="shop",track="worse"', "--record", "--service", "shop",
         "--format", "json"],
        env=env,
    )  # fmt: skip
    assert worse.exit_code == 1, worse.output
    document = json.loads(worse.stdout)
    assert document.pop("recorded") == {"id": 1, "service": "shop"}
    same = runner.invoke(
        app, [*common, "--canary", 'app="shop",track="same"', "--record", "--service", "shop"],
        env=env,
    )  # fmt: skip
    assert same.exit_code == 0, same.output
    assert "recorded as analysis 2 of shop" in same.stdout
    alone = runner.invoke(app, [*common, "--canary", 'track="x"', "--record"], env=env)
    assert alone.exit_code == 2
    assert "give both or neither" in alone.stderr
    engine = create_store_engine(f"sqlite:///{tmp_path / 'srekit.db'}")
    try:
        kept = recent_analyses(engine, service="shop")
    finally:
        engine.dispose()
    assert [(k.id, k.verdict, k.recorded_by) for k in kept] == [
        (2, "pass", "ci"),
        (1, "fail", "ci"),
    ]
    assert kept[1].document == document
    assert kept[1].confidence == max(m["confidence"] for m in document["metrics"])
