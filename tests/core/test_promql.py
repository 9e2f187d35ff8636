"""PromQL text for SLIs (srekit.core.promql): selectors, templates, histogram bounds, rollups."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from srekit.core import promql
from srekit.core.slo import SLO, PromLatency, PromRatio, PromThreshold
from srekit.core.window import RollingWindow
from srekit.rules.prometheus import RECORDED_WINDOWS_S, generate_rules


@pytest.mark.parametrize(
    ("query", "selector"),
    [
        ("http_requests_total", True),
        ('http_requests_total{job="api"}', True),
        ("http_requests_total{job='api', code=~\"5..\",}", True),
        ('http_requests_total{path!~"/health|/ready", le!="+Inf"}', True),
        ('  ns:http_requests:total { job = "a\\"b" }  ', True),
        ('{__name__="http_requests_total"}', True),
        ("http_requests_total{}", True),
        ('sum(http_requests_total{job="api"})', False),
        ('http_requests_total{job="api"}[5m]', False),
        ("http_requests_total offset 5m", False),
        ('http_requests_total{job="api"} + other', False),
        ('http_requests_total{job="a"} or b{job="b"}', False),
        ("", False),
        ("5xx_total", False),
    ],
)
def test_counter_selector_recognition(query: str, selector: bool) -> None:
    assert promql.is_counter_selector(query) is selector


@pytest.mark.parametrize(
    ("query", "window_s", "expected"),
    [
        (
            'http_requests_total{code=~"5.."}',
            300,
            'sum(increase(http_requests_total{code=~"5.."}[5m]))',
        ),
        (
            "sum(rate(x[{{.window}}])) * 60",
            30 * 86400,
            "sum(rate(x[30d])) * 60",
        ),
        (
            "sum by (job) (x)",
            3600,
            "sum(increase((sum by (job) (x))[1h:1m]))",
        ),
        ("  x  ", 90, "sum(increase(x[90s]))"),
    ],
)
def test_counter_increase(query: str, window_s: int, expected: str) -> None:
    assert promql.counter_increase(query, window_s) == expected


def test_every_window_placeholder_is_rendered() -> None:
    query = "sum(rate(a[{{.window}}])) / sum(rate(b[{{.window}}]))"
    assert promql.render_template(query, 7200) == "sum(rate(a[2h])) / sum(rate(b[2h]))"
    assert promql.is_template(query)
    assert not promql.is_template("sum(rate(a[5m]))")


def test_ratio_exprs_use_the_numerator_given() -> None:
    bad = PromRatio(bad='x{code="500"}', total="x")
    assert promql.ratio_exprs(bad, 60) == (
        'sum(increase(x{code="500"}[1m]))',
        "sum(increase(x[1m]))",
    )
    assert promql.good_events_expr(bad, 3600) == (
        '(sum(increase(x[1h]))) - ((sum(increase(x{code="500"}[1h]))) or vector(0))'
    )
    good = PromRatio(good='x{code="200"}', total="x")
    assert promql.good_events_expr(good, 3600) == 'sum(increase(x{code="200"}[1h]))'


def _spellings(value: float) -> list[str]:
    """How client libraries and people write a bucket bound (its shortest round-trip digits)."""
    spellings = [repr(value), format(value, "g"), format(value, "e"), format(value, "E")]
    spellings += [f"{value!r}000", f"0{value!r}"]
    if value == int(value) and value < 1e15:
        spellings += [str(int(value)), f"{int(value)}.0", f"{int(value)}.000"]
    return spellings


@pytest.mark.parametrize(
    ("threshold", "spellings", "others"),
    [
        (1.0, ["1", "1.0", "1.000", "1e+00", "1E0", "01", "1e-0"], ["10", "0.1", "1.5", "11"]),
        (0.25, ["0.25", ".25", "0.250", "2.5e-01", "2.5E-1"], ["0.025", "2.5", "0.2", "0.255"]),
        (2.5, ["2.5", "2.50", "2.5e+00"], ["25", "0.25", "2.05"]),
        (1e6, ["1e+06", "1000000", "1000000.0", "1E6", "1.0e6"], ["100000", "1e+07"]),
        (0.005, ["0.005", "5e-03", "5e-3", "0.0050"], ["0.05", "5e-02", "0.0005"]),
        (10.0, ["10", "10.0", "1e+01", "1e1", "1.0e1"], ["1", "100", "1e+10"]),
    ],
)
def test_le_regex_matches_every_spelling_and_nothing_else(
    threshold: float, spellings: list[str], others: list[str]
) -> None:
    pattern = re.compile(promql.le_regex(threshold))
    for spelling in spellings:
        assert pattern.fullmatch(spelling), spelling
    for other in others:
        assert not pattern.fullmatch(other), other
    assert "\\" not in pattern.pattern


@given(st.floats(min_value=1e-9, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_le_regex_matches_generated_bounds(threshold: float) -> None:
    pattern = re.compile(promql.le_regex(threshold))
    for spelling in _spellings(threshold):
        if float(spelling) == threshold:
            assert pattern.fullmatch(spelling), (threshold, spelling)


@given(
    st.floats(min_value=1e-6, max_value=1e9, allow_nan=False),
    st.floats(min_value=1e-6, max_value=1e9, allow_nan=False),
)
def test_le_regex_refuses_other_bounds(threshold: float, other: float) -> None:
    pattern = re.compile(promql.le_regex(threshold))
    for spelling in (repr(other), format(other, "g")):
        assert (pattern.fullmatch(spelling) is not None) == (float(spelling) == threshold)


def test_le_regex_refuses_non_positive_bounds() -> None:
    with pytest.raises(ValueError, match="positive"):
        promql.le_regex(0.0)
    with pytest.raises(ValueError, match="positive"):
        promql.le_regex(float("inf"))


def test_latency_exprs() -> None:
    indicator = PromLatency("http_request_duration_seconds", 0.5, 'job="api"')
    good, total = promql.latency_exprs(indicator, 86400)
    le = promql.le_regex(0.5)
    assert good == (
        f'sum(increase(http_request_duration_seconds_bucket{{job="api",le=~"{le}"}}[1d]))'
    )
    assert total == 'sum(increase(http_request_duration_seconds_count{job="api"}[1d]))'
    bare = PromLatency("h", 1.0)
    assert promql.latency_exprs(bare, 60)[1] == "sum(increase(h_count{}[1m]))"
    assert promql.latency_bucket_selector(indicator) == (
        'http_request_duration_seconds_bucket{job="api"}'
    )


def test_threshold_exprs_take_the_worst_series() -> None:
    upper = PromThreshold(query="latency_p99", op="lt", value=0.3)
    good, total = promql.threshold_slice_exprs(upper, 3600, 300)
    assert good == "sum_over_time((max(latency_p99) < bool 0.3)[3599999ms:5m])"
    assert total == "count_over_time((max(latency_p99))[3599999ms:5m])"
    lower = PromThreshold(query="up", op="gte", value=1)
    assert promql.threshold_aggregate(lower) == "min(up)"


def test_labelled_escapes_quotes_and_dollars() -> None:
    labelled = promql.labelled("x", 'a"b$1\\c', "good@1h")
    assert labelled == (
        'label_replace(label_replace(sum(x), "srekit_slo", "a\\"b$$1\\\\c", "", ""),'
        ' "srekit_part", "good@1h", "", "")'
    )
    assert promql.join_or(["a", "b"]) == "a or b"
    assert promql.join_or(["a", "b", "c"]) == "(a) or (b or c)"
    assert promql.join_or(list("abcde")) == "(a or b) or ((c) or (d or e))"
    with pytest.raises(ValueError, match="nothing"):
        promql.join_or([])


def test_rollup_queries() -> None:
    assert promql.rollup_sum_query(promql.ROLLUP_TOTAL_METRIC, 86400) == (
        "sum by (srekit_service, srekit_slo) "
        "(sum_over_time(srekit_slo:total_events:increase1h[86399999ms]))"
    )
    assert promql.rollup_coverage_query(3 * 86400) == (
        "max by (srekit_service, srekit_slo) "
        "(count_over_time(srekit_slo:total_events:increase1h[259199999ms]))"
    )
    assert promql.rollup_instants_query() == "srekit_slo:total_events:increase1h[2h]"


def test_recorded_ratio_query_selects_windows_and_services() -> None:
    query = promql.recorded_ratio_query([3600, 300, 300], ["api", 'we"b.v2'])
    assert query == (
        '{__name__=~"srekit_slo:error_ratio:rate1h|srekit_slo:error_ratio:rate5m", '
        'srekit_service=~"api|we\\"b\\\\.v2"}'
    )
    assert promql.recorded_ratio_query([21600]) == ('{__name__=~"srekit_slo:error_ratio:rate6h"}')
    many = [f"service-{n:06d}" for n in range(20_000)]
    assert "srekit_service" not in promql.recorded_ratio_query([300], many)
    with pytest.raises(ValueError, match="no window"):
        promql.recorded_ratio_query([])


def test_recorded_windows_are_the_ones_the_rules_record() -> None:
    """The source reads what the generator writes: same windows, same series names."""
    slo = SLO("api", "a", 0.99, RollingWindow(2592000), PromRatio(good="g", total="t"))
    assert promql.RECORDED_RATIO_WINDOWS_S == RECORDED_WINDOWS_S
    recorded = {
        rule["record"]
        for group in generate_rules([slo]).groups
        for rule in group["rules"]
        if "record" in rule
    }
    for seconds in promql.RECORDED_RATIO_WINDOWS_S:
        assert promql.error_ratio_metric(seconds) in recorded
        assert promql.error_ratio_metric(seconds).startswith(promql.ERROR_RATIO_METRIC_PREFIX)


def test_rollup_span_counts_the_hours_inside_the_window() -> None:
    hour = 3_600_000
    end = 1_000 * hour
    span = promql.rollup_span(end_ms=end, window_ms=24 * hour, last_rollup_ms=end - 600_000)
    assert span == promql.RollupSpan(rollups=24, tail_ms=600_000, head_ms=600_000)
    aligned = promql.rollup_span(end_ms=end, window_ms=24 * hour, last_rollup_ms=end)
    assert aligned == promql.RollupSpan(rollups=24, tail_ms=0, head_ms=0)
    # a calendar window of 30.5 hours: rollups at end - 0.25h - k hours, k = 0 … 30
    odd = promql.rollup_span(end_ms=end, window_ms=61 * hour // 2, last_rollup_ms=end - hour // 4)
    assert odd == promql.RollupSpan(rollups=31, tail_ms=hour // 4, head_ms=3 * hour // 4)
    assert promql.rollup_span(end_ms=end, window_ms=hour, last_rollup_ms=end + 1) is None
    assert promql.rollup_span(end_ms=end, window_ms=hour, last_rollup_ms=end - hour) is None


def test_counter_delta_counts_from_the_previous_rollups_sample() -> None:
    assert promql.counter_delta("x", length_ms=3_600_000) == (
        "sum(\n  (last_over_time(x[1h]) - last_over_time(x[1h] offset 1h))"
        "\n  unless (resets(x[2h]) > 0)\n  or increase(x[1h])\n)"
    )
    assert promql.counter_delta("x", length_ms=1500, offset_ms=86_400_000) == (
        "sum(\n  (last_over_time(x[1500ms] offset 1d) - last_over_time(x[1h] offset 86401500ms))"
        "\n  unless (resets(x[3601500ms] offset 1d) > 0)\n  or increase(x[1500ms] offset 1d)\n)"
    )


def test_rollups_are_read_where_the_sums_are_exact() -> None:
    """Bare counter selectors and histograms; templates and other expressions are read raw."""
    assert promql.exact_rollups(PromRatio(good='x{code="200"}', total="x"))
    assert promql.exact_rollups(PromLatency(metric="h", threshold_s=0.5, selector=""))
    assert not promql.exact_rollups(PromRatio(good="sum(rate(x[{{.window}}]))", total="y"))
    assert not promql.exact_rollups(PromRatio(bad="x + y", total="y"))


def test_rollups_of_templates_are_their_hourly_values_not_counter_deltas() -> None:
    """A templated ratio is not a bare counter: its rollup is the template at 1h."""
    good = PromRatio(
        good='sum(rate(x{code!~"5.."}[{{.window}}]))', total="sum(rate(x[{{.window}}]))"
    )
    assert not promql.exact_rollups(good)
    assert promql.rollup_exprs(good) == ('sum(rate(x{code!~"5.."}[1h]))', "sum(rate(x[1h]))")
    bad = PromRatio(bad='sum(rate(x{code=~"5.."}[{{.window}}]))', total="sum(rate(x[{{.window}}]))")
    assert promql.rollup_exprs(bad) == (
        '(sum(rate(x[1h]))) - ((sum(rate(x{code=~"5.."}[1h]))) or vector(0))',
        "sum(rate(x[1h]))",
    )
