"""PrometheusSource: histogram bounds and timeslices over a mock transport."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, BudgetingMethod, PromLatency, PromRatio, PromThreshold
from srekit.core.window import RollingWindow
from srekit.errors import SpecError
from tests.sources.prometheus.conftest import (
    AT,
    form_of,
    make_slo,
    make_source,
    make_window,
    vector,
)


def test_missing_bucket_lists_existing_bounds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/label/le/values":
            assert request.url.params["match[]"] == 'h_bucket{job="api"}'
            return httpx.Response(200, json={"status": "success", "data": ["+Inf", "1", "0.5"]})
        return vector(("api-lat", "total@1h", 10))

    slo = make_slo("lat", PromLatency("h", 0.3, 'job="api"'))
    with pytest.raises(SpecError) as raised:
        make_source(handler).counts([slo], [make_window()])
    assert raised.value.field == "indicator.threshold"
    assert "0.5, 1, +Inf" in str(raised.value)
    assert "api-lat" in str(raised.value)


def test_slices_read_a_range_query() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
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

    slo = make_slo("a", PromRatio(good="g", total="t"))
    slices = make_source(handler).slices(slo, start=AT - timedelta(hours=3), end=AT, slice_s=3600)
    assert slices == [
        EventCounts(good=9.0, total=10.0),
        None,
        EventCounts(good=8.0, total=10.0),
    ]


def test_threshold_slices_compare_each_value() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
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
    slices = make_source(handler).slices(slo, start=AT - timedelta(minutes=4), end=AT, slice_s=60)
    assert slices == [
        EventCounts(good=1.0, total=1.0),
        EventCounts(good=0.0, total=1.0),
        None,
        None,
    ]


def test_range_series_cuts_long_ranges_into_queries_prometheus_accepts() -> None:
    asked: list[tuple[float, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        start, end, step = float(form["start"]), float(form["end"]), int(form["step"])
        asked.append((start, end))
        count = int((end - start) // step) + 1
        points = [[start + k * step, str(start + k * step)] for k in range(count)]
        result = [{"metric": {"service": "a"}, "values": points}]
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return httpx.Response(200, json=body)

    start = AT - timedelta(seconds=60 * 24_999)
    ((labels, samples),) = make_source(handler).range_series(
        "sum(x)", start=start, end=AT, step_s=60
    )
    # 25,000 points at 60 s: three queries of at most 10,001 points, none overlapping
    assert len(asked) == 3
    assert all((end - begin) / 60 + 1 <= 10_001 for begin, end in asked)
    assert labels == {"service": "a"}
    assert len(samples) == 25_000
    assert [t for t, _ in samples] == [start.timestamp() + 60 * k for k in range(25_000)]
    assert all(t == v for t, v in samples)


def test_instant_values_read_each_series() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert form_of(request)["query"] == "sum(limit)"
        return vector(("a", "x", 24), ("b", "y", 12))

    assert make_source(handler).instant_values("sum(limit)", at=AT) == [24.0, 12.0]
