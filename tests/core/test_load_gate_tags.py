"""The load gate per tag set (request names): p95, p99 and error rate per tag against the
baseline, with the whole run's noise floor and minimum samples, against hand-computed figures."""

from __future__ import annotations

import pytest

from srekit.core.load_gate import (
    DURATION,
    FAILED,
    REQUESTS,
    CheckOutcome,
    GateCheck,
    GateRules,
    LoadSummary,
    MetricSummary,
    gate_load,
)

LOGIN = (("name", "login"),)
HOME = (("name", "home"),)


def part(
    tags: tuple[tuple[str, str], ...],
    *,
    p95: float | None,
    p99: float | None = None,
    requests: float | None = 500,
    error_rate: float | None = 0.0,
    counted: bool = True,
) -> list[MetricSummary]:
    """A tag set's metrics; `counted=False` leaves the count out of the trend and adds no
    `http_reqs` for it, as k6 writes a trend sub-metric."""
    metrics = [MetricSummary(DURATION, tags, count=requests if counted else None, p95=p95, p99=p99)]
    if error_rate is not None:
        metrics.append(MetricSummary(FAILED, tags, count=requests, rate=error_rate))
    return metrics


def summary(*parts: list[MetricSummary]) -> LoadSummary:
    whole = [
        MetricSummary(DURATION, p95=100.0, p99=150.0),
        MetricSummary(REQUESTS, count=1000, rate=50.0),
        MetricSummary(FAILED, count=1000, rate=0.0),
    ]
    return LoadSummary("locust", tuple(whole + [m for p in parts for m in p]))


def tag_rows(current: LoadSummary, baseline: LoadSummary, **rules: object) -> list[GateCheck]:
    verdict = gate_load(current, baseline=baseline, rules=GateRules(**rules))  # type: ignore[arg-type]
    return [check for check in verdict.checks if check.tags]


def row(rows: list[GateCheck], check: str, tags: str) -> GateCheck:
    return next(r for r in rows if (r.check, r.tags) == (check, tags))


def test_a_regressed_request_name_fails_though_the_whole_run_passes() -> None:
    baseline = summary(part(LOGIN, p95=200.0, p99=300.0), part(HOME, p95=50.0, p99=80.0))
    current = summary(part(LOGIN, p95=260.0, p99=310.0), part(HOME, p95=52.0, p99=81.0))
    verdict = gate_load(current, baseline=baseline)
    whole = [c for c in verdict.checks if not c.tags]
    assert {c.outcome for c in whole} == {CheckOutcome.PASS}
    assert (verdict.outcome, verdict.passed) == (CheckOutcome.FAIL, False)
    rows = tag_rows(current, baseline)
    # sorted by tag set: home, then login; p95, p99, error_rate each
    assert [(r.tags, r.check) for r in rows] == [
        ("name:home", "p95"), ("name:home", "p99"), ("name:home", "error_rate"),
        ("name:login", "p95"), ("name:login", "p99"), ("name:login", "error_rate"),
    ]  # fmt: skip
    login = row(rows, "p95", "name:login")
    # limit 200 × 1.2 = 240 ms; 260 − 200 = 60 ms > the 2 ms floor
    assert (login.outcome, login.current, login.baseline) == (CheckOutcome.FAIL, 260.0, 200.0)
    assert login.limit == pytest.approx(240.0)
    assert login.reason.startswith("+60 ms (+30.0%) over the baseline")
    # 300 → 310: +3.3 %, under the 20 %
    assert row(rows, "p99", "name:login").outcome is CheckOutcome.PASS
    assert row(rows, "p95", "name:home").limit == pytest.approx(60.0)  # 50 × 1.2
    assert row(rows, "p95", "name:home").outcome is CheckOutcome.PASS


def test_the_noise_floor_holds_per_tag() -> None:
    baseline = summary(part(LOGIN, p95=5.0))
    current = summary(part(LOGIN, p95=6.5))  # +30 % but only 1.5 ms
    rows = tag_rows(current, baseline)
    assert row(rows, "p95", "name:login").outcome is CheckOutcome.PASS
    assert row(rows, "p95", "name:login").reason == "+1.5 ms (noise floor 2 ms)"
    assert row(rows, "p99", "name:login").outcome is CheckOutcome.SKIPPED  # in neither run
    rows = tag_rows(current, baseline, latency_noise_floor_ms=1.0)
    assert row(rows, "p95", "name:login").outcome is CheckOutcome.FAIL


def test_minimum_samples_per_tag_is_inconclusive_and_fails_closed() -> None:
    baseline = summary(part(LOGIN, p95=200.0, requests=100))
    current = summary(part(LOGIN, p95=200.0, requests=99))
    verdict = gate_load(current, baseline=baseline)
    assert (verdict.outcome, verdict.passed) == (CheckOutcome.INCONCLUSIVE, False)
    rows = [c for c in verdict.checks if c.tags]
    assert [(r.check, r.outcome) for r in rows] == [
        ("p95", CheckOutcome.INCONCLUSIVE),
        ("p99", CheckOutcome.SKIPPED),  # in neither run
        ("error_rate", CheckOutcome.INCONCLUSIVE),
    ]
    assert rows[0].reason == "the run has 99 requests with name:login, fewer than 100"
    allowed = gate_load(current, baseline=baseline, rules=GateRules(allow_inconclusive=True))
    assert allowed.passed
    assert gate_load(current, baseline=baseline, rules=GateRules(min_samples=99)).passed


def test_a_tag_set_without_a_request_count_is_inconclusive() -> None:
    baseline = summary(part(LOGIN, p95=200.0, counted=False, error_rate=None))
    current = summary(part(LOGIN, p95=210.0, counted=False, error_rate=None))
    rows = tag_rows(current, baseline)
    assert row(rows, "p95", "name:login").outcome is CheckOutcome.INCONCLUSIVE
    assert "does not say how many requests had name:login" in rows[0].reason
    assert "add a threshold on http_reqs{name:login}" in rows[0].reason
    assert row(rows, "error_rate", "name:login").outcome is CheckOutcome.SKIPPED
    # counted through http_reqs{name:login}, as k6 writes it when a threshold names it
    counter = [MetricSummary(REQUESTS, LOGIN, count=500, rate=25.0)]
    rows = tag_rows(
        LoadSummary("k6", current.metrics + tuple(counter)),
        LoadSummary("k6", baseline.metrics + tuple(counter)),
    )
    assert row(rows, "p95", "name:login").outcome is CheckOutcome.PASS  # 210 <= 240


@pytest.mark.parametrize(
    ("before", "now", "expected", "limit"),
    [
        (0.005, 0.02, CheckOutcome.FAIL, 0.015),  # 0.5 % + 1 point
        (0.005, 0.015, CheckOutcome.PASS, 0.015),
        (None, 0.02, CheckOutcome.FAIL, 0.01),  # no baseline figure: at most 1 %
        (None, 0.005, CheckOutcome.PASS, 0.01),
    ],
)
def test_error_rate_per_tag(
    before: float | None, now: float, expected: CheckOutcome, limit: float
) -> None:
    rows = tag_rows(
        summary(part(LOGIN, p95=200.0, error_rate=now)),
        summary(part(LOGIN, p95=200.0, error_rate=before)),
    )
    error_rate = row(rows, "error_rate", "name:login")
    assert (error_rate.outcome, error_rate.current) == (expected, now)
    assert error_rate.limit == pytest.approx(limit)


def test_an_error_rate_only_tag_is_counted_by_its_rate_metric() -> None:
    failed = [MetricSummary(FAILED, LOGIN, count=400, rate=0.5)]
    rows = tag_rows(summary(failed), summary([MetricSummary(FAILED, LOGIN, count=400, rate=0.0)]))
    assert [(r.check, r.outcome) for r in rows] == [
        ("p95", CheckOutcome.SKIPPED),
        ("p99", CheckOutcome.SKIPPED),
        ("error_rate", CheckOutcome.FAIL),
    ]
    missing = tag_rows(summary([]), summary(failed))
    assert missing == [
        GateCheck(
            "tag", CheckOutcome.SKIPPED, None, reason="only in the baseline", tags="name:login"
        )
    ]


def test_new_names_are_skipped_and_expected_response_and_no_baseline_add_no_rows() -> None:
    expected_response = part((("expected_response", "true"),), p95=1000.0)
    rows = tag_rows(summary(part(LOGIN, p95=9000.0), expected_response), summary())
    assert [(r.check, r.outcome, r.reason) for r in rows] == [
        ("tag", CheckOutcome.SKIPPED, "only in the run")
    ]
    verdict = gate_load(summary(part(LOGIN, p95=9000.0, error_rate=0.9)))
    assert [c for c in verdict.checks if c.tags] == []
    assert verdict.passed  # absolute limits judge the whole run only
