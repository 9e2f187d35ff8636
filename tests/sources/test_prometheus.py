"""PromQL building (srekit.core.promql) and PrometheusSource over a mock transport."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from srekit.core import promql
from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import (
    SLO,
    BudgetingMethod,
    PromErrorRatio,
    PromLatency,
    PromRatio,
    PromThreshold,
)
from srekit.core.window import RollingWindow
from srekit.errors import SourceUnavailable, SpecError
from srekit.rules.prometheus import RECORDED_WINDOWS_S, generate_rules
from srekit.sources.prometheus import PrometheusSource

AT = datetime(2026, 11, 1, tzinfo=UTC)


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


# PrometheusSource over httpx.MockTransport


def _slo(name: str, indicator: PromRatio | PromLatency | PromErrorRatio) -> SLO:
    return SLO("api", name, 0.99, RollingWindow(2592000), indicator, source_file="api.yaml")


def _window(label: str = "1h", seconds: int = 3600) -> WindowQuery:
    return WindowQuery(label, AT - timedelta(seconds=seconds), AT)


Handler = Callable[[httpx.Request], httpx.Response]


def _source(handler: Handler, **options: object) -> PrometheusSource:
    """A source over `handler`; recordings off unless asked, so raw-path tests see raw queries."""
    options.setdefault("use_recordings", False)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return PrometheusSource(
        "http://prometheus.test/",
        client=client,
        backoff_s=0.0,
        **options,  # type: ignore[arg-type]
    )


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _vector(*series: tuple[str, str, float]) -> httpx.Response:
    result = [
        {"metric": {"srekit_slo": slo, "srekit_part": part}, "value": [AT.timestamp(), str(v)]}
        for slo, part, v in series
    ]
    return httpx.Response(
        200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
    )


def test_counts_batch_and_evaluate_at_the_window_end() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_form(request))
        return _vector(
            ("api-errors", "bad@1h", 5),
            ("api-errors", "total@1h", 1000),
            ("api-raw", "error_ratio@1h", 0.25),
            ("api-empty", "good@1h", 3),
        )

    slos = [
        _slo("errors", PromRatio(bad='x{code="500"}', total="x")),
        _slo("raw", PromErrorRatio("sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))")),
        _slo("empty", PromRatio(good="g", total="t")),
    ]
    counts = _source(handler, token="s3cret").counts(slos, [_window()])
    assert counts == {
        ("api-errors", "1h"): EventCounts(good=995.0, total=1000.0),
        ("api-raw", "1h"): EventCounts(good=0.75, total=1.0, counted=False),
        ("api-empty", "1h"): None,
    }
    assert len(seen) == 1
    assert seen[0]["time"] == f"{AT.timestamp():.3f}"
    assert seen[0]["query"].count(" or ") == 4


def test_bad_events_missing_means_none_bad() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _vector(("api-errors", "total@1h", 10))

    slo = _slo("errors", PromRatio(bad='x{code="500"}', total="x"))
    assert _source(handler).counts([slo], [_window()]) == {
        ("api-errors", "1h"): EventCounts(good=10.0, total=10.0)
    }


def test_batches_are_chunked() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(_form(request)["query"].count("label_replace(sum("))
        return _vector()

    slos = [_slo(f"s{n}", PromRatio(good="g", total="t")) for n in range(25)]
    _source(handler, batch_size=20).counts(slos, [_window()])
    assert sorted(sizes) == [10, 20, 20]


def test_auth_headers_are_sent() -> None:
    headers: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers)
        return _vector()

    slo = _slo("a", PromRatio(good="g", total="t"))
    _source(handler, token="t0k", headers={"X-Scope-OrgID": "team"}).counts([slo], [_window()])
    _source(handler, basic_auth=("u", "p")).counts([slo], [_window()])
    assert headers[0]["authorization"] == "Bearer t0k"
    assert headers[0]["x-scope-orgid"] == "team"
    assert headers[1]["authorization"].startswith("Basic ")


def test_transient_failures_are_retried() -> None:
    answers = iter([httpx.Response(503, text="overloaded"), _vector(("api-a", "total@1h", 4))])
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return next(answers)

    slo = _slo("a", PromRatio(good="g", total="t"))
    counts = _source(handler).counts([slo], [_window()])
    assert counts[("api-a", "1h")] == EventCounts(good=0.0, total=4.0)
    assert len(calls) == 2


def test_persistent_failure_is_source_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    slo = _slo("a", PromRatio(good="g", total="t"))
    with pytest.raises(SourceUnavailable, match=r"prometheus\.test.*3 attempts.*timed out"):
        _source(handler).counts([slo], [_window()])


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"status": "error", "errorType": "auth", "error": "no"}, "HTTP 401"),
        (200, "<html>proxy</html>", "not an API answer"),
        (404, "404 page not found", "not an API answer"),
    ],
)
def test_unusable_answers_are_source_unavailable(status: int, body: object, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    slo = _slo("a", PromRatio(good="g", total="t"))
    with pytest.raises(SourceUnavailable, match=message):
        _source(handler).counts([slo], [_window()])


def test_refused_batch_is_split_to_blame_one_slo() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = _form(request)["query"]
        queries.append(query)
        if "broken(" in query:
            error = {"status": "error", "errorType": "bad_data", "error": "1:5: parse error"}
            return httpx.Response(400, json=error)
        return _vector()

    slos = [_slo(f"ok{n}", PromRatio(good="g", total="t")) for n in range(6)]
    slos.insert(3, _slo("bad", PromRatio(good="g", total="broken({{.window}}")))
    with pytest.raises(SpecError) as raised:
        _source(handler).counts(slos, [_window()])
    assert raised.value.field == "indicator.total"
    assert raised.value.file == "api.yaml"
    assert "SLO api-bad" in str(raised.value)
    assert "parse error" in str(raised.value)
    assert len(queries) <= 1 + 2 * 4


def test_missing_bucket_lists_existing_bounds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/label/le/values":
            assert request.url.params["match[]"] == 'h_bucket{job="api"}'
            return httpx.Response(200, json={"status": "success", "data": ["+Inf", "1", "0.5"]})
        return _vector(("api-lat", "total@1h", 10))

    slo = _slo("lat", PromLatency("h", 0.3, 'job="api"'))
    with pytest.raises(SpecError) as raised:
        _source(handler).counts([slo], [_window()])
    assert raised.value.field == "indicator.threshold"
    assert "0.5, 1, +Inf" in str(raised.value)
    assert "api-lat" in str(raised.value)


def test_rollups_are_read_where_they_cover_the_window() -> None:
    """Rollups give 1d for `a`, completed by the raw minutes after the last rollup (10 min ago)
    and less the minutes before the window that its first rollup counts (also 10 min)."""
    queries: list[str] = []
    last_rollup = AT.timestamp() - 600

    def handler(request: httpx.Request) -> httpx.Response:
        query = _form(request)["query"]
        queries.append(query)
        labels = {"srekit_service": "api", "srekit_slo": "a"}
        if query == promql.rollup_instants_query():
            result = [{"metric": labels, "values": [[last_rollup - 3600, "1"], [last_rollup, "1"]]}]
            body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
            return httpx.Response(200, json=body)
        if "sum_over_time(srekit_slo:" in query:
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {
                        "resultType": "vector",
                        "result": [
                            {"metric": {**labels, "srekit_part": part}, "value": [0, value]}
                            for part, value in (("good", "90"), ("total", "100"), ("samples", "24"))
                        ],
                    },
                },
            )
        if "gap0:" in query:  # after the last rollup (+) and before the window (−)
            return _vector(
                ("api-a", "gap0:good@1d", 5),
                ("api-a", "gap1:good@1d", 3),
                ("api-a", "gap2:total@1d", 4),
                ("api-a", "gap3:total@1d", 1),
            )
        return _vector(("api-b", "total@1d", 7), ("api-a", "total@1h", 3))

    slos = [_slo("a", PromRatio(good="g", total="t")), _slo("b", PromRatio(good="g", total="t"))]
    windows = [_window(), _window("1d", 86400)]
    counts = _source(handler).counts(slos, windows)
    assert counts[("api-a", "1d")] == EventCounts(good=92.0, total=103.0)
    assert counts[("api-b", "1d")] == EventCounts(good=0.0, total=7.0)
    assert counts[("api-a", "1h")] == EventCounts(good=0.0, total=3.0)
    assert len(queries) == 4
    (gap,) = [q for q in queries if "gap0:" in q]
    assert "last_over_time(g[10m]) - last_over_time(g[1h] offset 10m)" in gap  # after
    assert "last_over_time(g[10m] offset 1d) - last_over_time(g[1h] offset 1450m)" in gap  # before
    raw = queries[-1]
    assert '"api-a", "", ""), "srekit_part", "good@1d"' not in raw
    assert json.dumps("good@1h") in raw
    queries.clear()
    hourly = _source(handler, rollup_windows="hourly").counts(slos, windows)
    assert hourly[("api-a", "1d")] == EventCounts(good=90.0, total=100.0)  # as of 10 min ago
    assert not [q for q in queries if "gap0:" in q]


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


def test_slices_read_a_range_query() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        form = _form(request)
        assert request.url.path == "/api/v1/query_range"
        assert form["step"] == "3600"
        start = float(form["start"])
        values = {
            "good@1h": [[start, "9"], [start + 7200, "8"]],
            "total@1h": [[start, "10"], [start + 7200, "10"]],
        }
        result = [
            {"metric": {"srekit_slo": "api-a", "srekit_part": part}, "values": points}
            for part, points in values.items()
        ]
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return httpx.Response(200, json=body)

    slo = _slo("a", PromRatio(good="g", total="t"))
    slices = _source(handler).slices(slo, start=AT - timedelta(hours=3), end=AT, slice_s=3600)
    assert slices == [
        EventCounts(good=9.0, total=10.0),
        None,
        EventCounts(good=8.0, total=10.0),
    ]


def test_threshold_slices_compare_each_value() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        form = _form(request)
        assert form["query"] == "max(p99)"
        start = float(form["start"])
        points = [[start, "0.2"], [start + 60, "0.4"], [start + 120, "NaN"]]
        result = [{"metric": {}, "values": points}]
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return httpx.Response(200, json=body)

    slo = SLO(
        "api",
        "p99",
        0.99,
        RollingWindow(86400),
        PromThreshold("p99", "lte", 0.3),
        budgeting=BudgetingMethod.TIMESLICES,
        timeslice_s=60,
    )
    slices = _source(handler).slices(slo, start=AT - timedelta(minutes=4), end=AT, slice_s=60)
    assert slices == [
        EventCounts(good=1.0, total=1.0),
        EventCounts(good=0.0, total=1.0),
        None,
        None,
    ]


def _recorded(*series: tuple[str, str, str, str]) -> httpx.Response:
    """An answer to the recorded-ratio selector: (window, service, slo, value) per series."""
    result = [
        {
            "metric": {
                "__name__": f"srekit_slo:error_ratio:rate{window}",
                "srekit_service": service,
                "srekit_slo": slo,
                "team": "core",
            },
            "value": [AT.timestamp(), value],
        }
        for window, service, slo, value in series
    ]
    return httpx.Response(
        200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
    )


def test_recorded_ratios_are_read_in_one_query_for_every_slo() -> None:
    forms: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = _form(request)
        forms.append(form)
        if form["query"].startswith("{__name__=~"):
            return _recorded(
                ("5m", "api", "a", "0.02"),
                ("1h", "api", "a", "0.001"),
                ("5m", "api", "quiet", "NaN"),
                ("1h", "api", "quiet", "0"),
                ("5m", "api", "hourly", "0.5"),  # its own window is 5m: counts needed
                ("1h", "other", "a", "0.9"),  # another service's SLO of the same name
            )
        return _vector(
            ("api-a", "total@1d", 50),
            ("api-unrecorded", "total@5m", 4),
            ("api-unrecorded", "total@1h", 40),
            ("api-unrecorded", "total@1d", 400),
            ("api-quiet", "good@1d", 6),
            ("api-quiet", "total@1d", 7),
            ("api-hourly", "good@5m", 2),
            ("api-hourly", "total@5m", 3),
            ("api-hourly", "total@1d", 9),
        )

    slos = [
        _slo("a", PromRatio(good="g", total="t")),
        _slo("quiet", PromLatency("h", 0.5)),
        _slo("unrecorded", PromRatio(bad="b", total="t")),
        SLO("api", "hourly", 0.9, RollingWindow(300), PromRatio(good="g", total="t")),
    ]
    windows = [_window("5m", 300), _window("1h", 3600), _window("1d", 86400)]
    counts = _source(handler, use_recordings=True, use_rollups=False).counts(slos, windows)
    assert counts == {
        ("api-a", "5m"): EventCounts(good=0.98, total=1.0, counted=False),
        ("api-a", "1h"): EventCounts(good=0.999, total=1.0, counted=False),
        ("api-a", "1d"): EventCounts(good=0.0, total=50.0),
        ("api-quiet", "5m"): None,  # 0/0: no events in the window
        ("api-quiet", "1h"): EventCounts(good=1.0, total=1.0, counted=False),
        ("api-quiet", "1d"): EventCounts(good=6.0, total=7.0),
        ("api-unrecorded", "5m"): EventCounts(good=4.0, total=4.0),
        ("api-unrecorded", "1h"): EventCounts(good=40.0, total=40.0),
        ("api-unrecorded", "1d"): EventCounts(good=400.0, total=400.0),
        ("api-hourly", "5m"): EventCounts(good=2.0, total=3.0),
        ("api-hourly", "1h"): None,
        ("api-hourly", "1d"): EventCounts(good=0.0, total=9.0),
    }
    assert len(forms) == 2
    recorded, raw = forms
    assert recorded["time"] == f"{AT.timestamp():.3f}"
    assert recorded["query"] == promql.recorded_ratio_query([300, 3600], ["api"])
    # Only what the recordings did not answer is read raw.
    labels = set(
        re.findall(r'"srekit_slo", "([^"]+)", "", ""\), "srekit_part", "([^"]+)"', raw["query"])
    )
    assert labels == {
        ("api-a", "good@1d"),
        ("api-a", "total@1d"),
        ("api-quiet", "good@1d"),
        ("api-quiet", "total@1d"),
        ("api-unrecorded", "bad@5m"),
        ("api-unrecorded", "total@5m"),
        ("api-unrecorded", "bad@1h"),
        ("api-unrecorded", "total@1h"),
        ("api-unrecorded", "bad@1d"),
        ("api-unrecorded", "total@1d"),
        ("api-hourly", "good@5m"),
        ("api-hourly", "total@5m"),
        ("api-hourly", "good@1h"),
        ("api-hourly", "total@1h"),
        ("api-hourly", "good@1d"),
        ("api-hourly", "total@1d"),
    }


def test_disagreeing_recordings_are_read_raw() -> None:
    """Two series for one SLO and window that differ cannot both be right: ask the raw series."""
    raw_queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = _form(request)["query"]
        if query.startswith("{__name__=~"):
            return _recorded(
                ("5m", "api", "a", "0.1"),
                ("5m", "api", "a", "0.3"),
                ("30m", "api", "a", "NaN"),
                ("30m", "api", "a", "NaN"),  # agreeing duplicates (replicas) are fine
            )
        raw_queries.append(query)
        return _vector(("api-a", "good@5m", 9), ("api-a", "total@5m", 10))

    slo = _slo("a", PromRatio(good="g", total="t"))
    windows = [_window("5m", 300), _window("30m", 1800)]
    counts = _source(handler, use_recordings=True).counts([slo], windows)
    assert counts == {("api-a", "5m"): EventCounts(good=9.0, total=10.0), ("api-a", "30m"): None}
    assert len(raw_queries) == 1
    assert "good@30m" not in raw_queries[0]


def test_recordings_off_refused_or_not_applicable_mean_raw_queries() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = _form(request)["query"]
        queries.append(query)
        if query.startswith("{__name__=~"):
            error = {"status": "error", "errorType": "bad_data", "error": "not allowed"}
            return httpx.Response(400, json=error)
        return _vector(("api-a", "total@5m", 3), ("api-a", "total@90s", 2))

    slo = _slo("a", PromRatio(good="g", total="t"))
    five = _window("5m", 300)
    assert _source(handler, use_recordings=True).counts([slo], [five]) == {
        ("api-a", "5m"): EventCounts(good=0.0, total=3.0)
    }
    assert len(queries) == 2
    queries.clear()
    _source(handler, use_recordings=False).counts([slo], [five])
    assert len(queries) == 1
    queries.clear()
    # Windows srekit does not record (or labelled otherwise) never ask for recordings.
    odd = [_window("90s", 90), WindowQuery("five minutes", AT - timedelta(minutes=5), AT)]
    _source(handler, use_recordings=True).counts([slo], odd)
    assert len(queries) == 1
    assert not queries[0].startswith("{__name__=~")
