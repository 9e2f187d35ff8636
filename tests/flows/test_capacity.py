"""`flows.capacity`: a plan's resources read from files and the event store, forecast and
planned; every kind of bad data is a problem that says why, never an exception."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from srekit.core.capacity import MONTH_S
from srekit.flows.capacity import PlanResult, forecast_plan, gap_allowed_s, season_steps
from srekit.sources.events import EventStore
from srekit.spec.capacity import CapacityPlanDocument

NOW = datetime(2026, 3, 31, tzinfo=UTC)
HOUR = 3_600


def _plan(**resource: Any) -> CapacityPlanDocument:
    fields: dict[str, Any] = {
        "name": "cpu",
        "usage": "sum(rate(cpu[5m]))",
        "unit": "cores",
        "limit": 24,
        "headroom": 0.5,
    }
    fields.update(resource)
    fields = {key: value for key, value in fields.items() if value is not None}
    return CapacityPlanDocument.model_validate(
        {
            "apiVersion": "srekit/v1",
            "kind": "CapacityPlan",
            "metadata": {"name": "checkout"},
            "spec": {
                "service": "checkout",
                "horizon": "60d",
                "history": "30d",
                "step": "1h",
                "resources": [fields],
                "hpa": {"current_replicas": 4, "max_replicas": 10, "cpu_utilization": 50},
            },
        }
    )


def _csv(path: Path, rows: Sequence[tuple[float, float | str]]) -> Path:
    path.write_text(
        "timestamp,value\n" + "".join(f"{t:.0f},{v}\n" for t, v in rows), encoding="utf-8"
    )
    return path


def _linear(hours: int, *, start: float, slope_per_hour: float) -> list[tuple[float, float]]:
    end = NOW.timestamp() - HOUR
    return [(end - (hours - 1 - k) * HOUR, start + slope_per_hour * k) for k in range(hours)]


def _run(plan: CapacityPlanDocument, series: Path) -> PlanResult:
    return forecast_plan(plan, file="plan.yaml", now=NOW, files={"*": series})


def test_a_linear_trend_crosses_its_limit_when_the_line_does(tmp_path: Path) -> None:
    # 4 cores rising 0.01 core an hour for 30 days: exactly a line, so every linear model
    # forecasts it without error and the intervals have no width
    rows = _linear(720, start=4.0, slope_per_hour=0.01)
    result = _run(_plan(), _csv(tmp_path / "cpu.csv", rows))
    assert result.problems == ()
    (planned,) = result.resources
    last_t, last_v = rows[-1]
    # by hand: the line reaches 24 cores (24 - last) / 0.01 hours after the last sample
    expected_full = last_t + (24 - last_v) / 0.01 * HOUR
    expected_headroom = last_t + (12 - last_v) / 0.01 * HOUR
    plan = planned.recommendation
    assert plan.limit_median.at == pytest.approx(expected_full, abs=60)
    assert plan.limit_upper.at == pytest.approx(expected_full, abs=60)
    assert plan.headroom_median.at == pytest.approx(expected_headroom, abs=60)
    assert plan.months_until_capacity == pytest.approx(
        (expected_full - NOW.timestamp()) / MONTH_S, rel=1e-6
    )
    assert planned.utilization.current == pytest.approx(last_v / 24)
    assert planned.growth.per_month == pytest.approx(0.01 / HOUR * MONTH_S)
    assert planned.score[0] == pytest.approx(0.0, abs=1e-9)
    # 60 days at 0.01/h ends at last + 14.4 cores: 25.59 cores, 13 pods of 2 cores at 100 %
    peak = last_v + 0.01 * 60 * 24
    assert plan.forecast_peak_upper == pytest.approx(peak)
    assert plan.scale_to == pytest.approx(peak / 0.5)
    assert planned.origin == "file cpu.csv"


def test_replicas_and_the_hpa_rule_follow_the_targets(tmp_path: Path) -> None:
    rows = _linear(720, start=4.0, slope_per_hour=0.01)
    result = _run(_plan(per_pod_capacity=2), _csv(tmp_path / "cpu.csv", rows))
    (planned,) = result.resources
    peak = rows[-1][1] + 14.4
    # pods of 2 cores kept at the HPA's 50 % target
    assert planned.recommendation.replicas == math.ceil(peak / (2 * 0.5))
    assert planned.recommendation.above_max_replicas
    assert result.hpa is not None
    current = rows[-1][1]
    # now: usage / (4 pods × 2 cores) in percent against 50 %
    ratio = current / 8 * 100 / 50
    assert result.hpa.now.desired == min(10, math.ceil(ratio * 4))
    assert result.hpa.at_peak.above_max


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], "no rows"),
        ([3.0] * 4, "4 usable points"),
        (["nan"] * 10, "0 usable points (10 NaN/inf dropped)"),
    ],
)
def test_too_little_data_is_a_problem_naming_the_resource(
    tmp_path: Path, values: list[float | str], expected: str
) -> None:
    rows = [(NOW.timestamp() - (len(values) - k) * HOUR, v) for k, v in enumerate(values)]
    path = _csv(tmp_path / "cpu.csv", rows)
    if not values:
        from srekit.errors import SpecError

        with pytest.raises(SpecError, match=expected):
            _run(_plan(), path)
        return
    result = _run(_plan(), path)
    assert result.resources == ()
    (problem,) = result.problems
    assert problem.resource == "cpu"
    assert problem.message.startswith("spec.resources[0]: ")
    assert expected in problem.message


def test_a_gap_longer_than_allowed_is_refused_with_its_times(tmp_path: Path) -> None:
    rows = _linear(200, start=4.0, slope_per_hour=0.01)
    del rows[100:110]  # 11 hours without a sample, more than the 6 allowed at 1h steps
    result = _run(_plan(), _csv(tmp_path / "cpu.csv", rows))
    (problem,) = result.problems
    assert "gap of 39600 s" in problem.message
    assert gap_allowed_s(HOUR) == 6 * HOUR


def test_short_gaps_nan_and_counter_resets_are_repaired_and_said(tmp_path: Path) -> None:
    rows: list[tuple[float, float | str]] = list(_linear(200, start=100.0, slope_per_hour=5))
    rows[50] = (rows[50][0], "NaN")
    del rows[80:82]  # three hours apart: filled
    # a counter reset: the counter restarts from 7 at hour 150
    rows[150:] = [(t, 7 + 5 * k) for k, (t, _) in enumerate(rows[150:])]
    result = _run(_plan(type="counter", limit=1e9), _csv(tmp_path / "c.csv", rows))
    assert result.problems == ()
    (planned,) = result.resources
    notes = " | ".join(planned.notes)
    assert "1 NaN/inf samples dropped" in notes
    assert "points interpolated across short gaps" in notes
    assert "1 counter resets corrected" in notes
    # reset-corrected, the counter keeps rising by 5 an hour: 100 + 5·199 + 7 at the end
    assert planned.history[-1] == pytest.approx(100 + 5 * 149 + 7 + 5 * 49)


def test_a_constant_series_is_planned_and_said_flat(tmp_path: Path) -> None:
    rows = [(t, 3.0) for t, _ in _linear(100, start=0, slope_per_hour=0)]
    result = _run(_plan(), _csv(tmp_path / "cpu.csv", rows))
    (planned,) = result.resources
    assert "constant series" in planned.notes[0]
    assert planned.recommendation.limit_upper.state == "never"
    assert planned.recommendation.scale_by is None
    assert planned.growth.per_month == 0


def test_usage_above_the_limit_is_a_state_and_a_note(tmp_path: Path) -> None:
    rows = _linear(200, start=30.0, slope_per_hour=0.01)
    result = _run(_plan(), _csv(tmp_path / "cpu.csv", rows))
    (planned,) = result.resources
    assert planned.recommendation.limit_median.state == "already_above"
    assert planned.recommendation.months_until_capacity == 0
    assert planned.recommendation.scale_by == NOW.timestamp()
    assert any("above the limit 24: already over capacity" in note for note in planned.notes)


def test_fewer_points_than_two_seasons_skips_the_seasonal_models(tmp_path: Path) -> None:
    rows = _linear(30, start=4.0, slope_per_hour=0.01)
    result = _run(_plan(), _csv(tmp_path / "cpu.csv", rows))
    (planned,) = result.resources
    assert any("seasonal_naive" in note and "needs two seasons" in note for note in planned.notes)
    assert "seasonal" not in planned.forecast.model


def test_without_a_source_each_resource_says_which_is_missing() -> None:
    result = forecast_plan(_plan(), file="plan.yaml", now=NOW)
    assert "no Prometheus to query" in result.problems[0].message
    events = forecast_plan(_plan(source="events", usage=None), file="plan.yaml", now=NOW)
    assert "no event store" in events.problems[0].message


def test_requests_per_second_are_read_from_the_event_store(tmp_path: Path) -> None:
    # hour k of the last 48 holds 100 + 10·k requests
    start = NOW - timedelta(hours=48)
    lines = []
    for hour in range(48):
        for n in range(100 + 10 * hour):
            at = start + timedelta(hours=hour, seconds=n * 3)
            lines.append(json.dumps({"ts": at.isoformat(), "status": 200, "duration_s": 0.1}))
    log = tmp_path / "access.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with EventStore(tmp_path / "events") as store:
        store.ingest(log, service="checkout", format="jsonl")
        result = forecast_plan(
            _plan(source="events", usage=None, unit="rps", limit=1),
            file="plan.yaml",
            now=NOW,
            events=store,
        )
    assert result.problems == ()
    (planned,) = result.resources
    assert planned.origin == "events"
    assert planned.history[0] == pytest.approx(100 / HOUR)
    assert planned.history[-1] == pytest.approx((100 + 10 * 47) / HOUR)
    assert planned.history_at[0] == start.timestamp()


@pytest.mark.parametrize(
    ("step_s", "season_s", "expected"),
    [(3_600, 86_400, 24), (300, 86_400, 288), (86_400, 86_400, None), (7_000, 86_400, None)],
)
def test_season_steps(step_s: int, season_s: int, expected: int | None) -> None:
    assert season_steps(step_s, season_s) == expected
