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
