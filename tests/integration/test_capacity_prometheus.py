"""Capacity planning against a real Prometheus: 30 days of a CPU gauge with a planted linear
trend, backfilled with promtool, forecast through `flows.capacity` and the CLI."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.flows.capacity import forecast_plan
from srekit.sources.prometheus import PrometheusSource
from srekit.spec.capacity import CapacityPlanDocument
from tests.integration.prometheus_fixture import (
    PrometheusServer,
    backfill_openmetrics,
    require_binary,
)

START = datetime(2026, 10, 2, tzinfo=UTC)
END = START + timedelta(days=30)
SCRAPE_S = 300
#: cores = 4 + 0.5 a day, with a daily swing of ±0.2 cores
BASE, PER_DAY, SWING = 4.0, 0.5, 0.2
LIMIT = 24.0


def _cores(t: float) -> float:
    days = (t - START.timestamp()) / 86_400
    return BASE + PER_DAY * days + SWING * math.sin(2 * math.pi * days)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    for binary in ("prometheus", "promtool"):
        require_binary(binary)
    workdir = tmp_path_factory.mktemp("capacity-prometheus")
    source = workdir / "cpu.om"
    start_s = int(START.timestamp())
    samples = int((END - START).total_seconds()) // SCRAPE_S + 1
    with source.open("w", encoding="ascii") as out:
        out.write("# TYPE checkout_cpu_cores gauge\n")
        for k in range(samples):
            t = start_s + k * SCRAPE_S
            out.write(f'checkout_cpu_cores{{service="checkout"}} {_cores(t):.6f} {t}\n')
        out.write("# TYPE checkout_cpu_limit_cores gauge\n")
        for k in range(samples):
            out.write(
                f'checkout_cpu_limit_cores{{service="checkout"}} {LIMIT} {start_s + k * SCRAPE_S}\n'
            )
        out.write("# EOF\n")
    backfill_openmetrics(source, workdir / "data")
    server = PrometheusServer(workdir / "data", workdir / "server")
    server.start()
    yield server
    server.stop()


def _plan_yaml(limit: object) -> dict[str, object]:
    return {
        "apiVersion": "srekit/v1",
        "kind": "CapacityPlan",
        "metadata": {"name": "checkout"},
        "spec": {
            "service": "checkout",
            "horizon": "30d",
            "history": "30d",
            "resources": [
                {
                    "name": "cpu",
                    "usage": 'sum(checkout_cpu_cores{service="checkout"})',
                    "unit": "cores",
                    "limit": limit,
                    "headroom": 0.75,
                }
            ],
        },
    }


def test_a_planted_linear_trend_crosses_on_the_expected_day(prometheus: PrometheusServer) -> None:
    plan = CapacityPlanDocument.model_validate(
        _plan_yaml({"query": 'max(checkout_cpu_limit_cores{service="checkout"})'})
    )
    with PrometheusSource(prometheus.url) as source:
        result = forecast_plan(plan, file="plan.yaml", now=END, prometheus=source)
    assert result.problems == ()
    (planned,) = result.resources
    # the default step for a 30-day horizon is 1 h: 30 days of history are 721 points
    assert planned.step_s == 3_600
    assert len(planned.history) == 721
    assert planned.limit == LIMIT
    # by hand: 4 + 0.5·d = 24 at d = 40 days after START, 10 days after the end; the
    # headroom target, 18 cores (75 %), was passed at d = 28, before the end
    expected_full = START + timedelta(days=(LIMIT - BASE) / PER_DAY)
    crossed = planned.recommendation.limit_median
    assert crossed.state == "crosses"
    assert crossed.at is not None
    assert abs(crossed.at - expected_full.timestamp()) <= 86_400
    assert planned.recommendation.headroom_median.state == "already_above"
    # growth: 0.5 core a day is 0.5 × 30.436875 cores a month (the sine adds a little)
    assert planned.growth.per_month == pytest.approx(PER_DAY * 365.2425 / 12, rel=0.01)
    assert planned.utilization.current == pytest.approx(_cores(END.timestamp()) / LIMIT, rel=1e-3)


def test_the_cli_reads_prometheus_and_a_query_with_no_data_exits_3(
    prometheus: PrometheusServer, tmp_path: Path
) -> None:
    spec = tmp_path / "plan.yaml"
    spec.write_text(yaml.safe_dump(_plan_yaml(LIMIT)), encoding="utf-8")
    at = END.isoformat().replace("+00:00", "Z")
    env = {"SREKIT_HOME": str(tmp_path / "home"), "SREKIT_PROMETHEUS_URL": prometheus.url}
    runner = CliRunner()
    result = runner.invoke(
        app, ["capacity", "forecast", "-f", str(spec), "--at", at, "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.stdout)
    limit_at = document["resources"][0]["crossings"]["limit"]["median"]["at"]
    expected = START + timedelta(days=(LIMIT - BASE) / PER_DAY)
    got = datetime.fromisoformat(limit_at.replace("Z", "+00:00"))
    assert abs((got - expected).total_seconds()) <= 86_400
    spec.write_text(
        spec.read_text().replace("checkout_cpu_cores", "nothing_here_cores"), encoding="utf-8"
    )
    result = runner.invoke(app, ["capacity", "forecast", "-f", str(spec), "--at", at], env=env)
    assert result.exit_code == 3
    assert "the query returned no data" in result.stderr
