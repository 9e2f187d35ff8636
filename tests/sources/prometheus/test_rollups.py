"""Long windows read from hourly rollups and completed exactly."""

from __future__ import annotations

import json

import httpx

from srekit.core import promql
from srekit.core.sli import EventCounts
from srekit.core.slo import PromRatio
from tests.sources.prometheus.conftest import (
    AT,
    form_of,
    make_slo,
    make_source,
    make_window,
    vector,
)


def test_rollups_are_read_where_they_cover_the_window() -> None:
    """Rollups give 1d for `a`, completed by the raw minutes after the last rollup (10 min ago)
    and less the minutes before the window that its first rollup counts (also 10 min)."""
    queries: list[str] = []
    last_rollup = AT.timestamp() - 600

    def handler(request: httpx.Request) -> httpx.Response:
        query = form_of(request)["query"]
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
            return vector(
                ("api-a", "gap0:good@1d", 5),
                ("api-a", "gap1:good@1d", 3),
                ("api-a", "gap2:total@1d", 4),
                ("api-a", "gap3:total@1d", 1),
            )
        return vector(("api-b", "total@1d", 7), ("api-a", "total@1h", 3))

    slos = [
        make_slo("a", PromRatio(good="g", total="t")),
        make_slo("b", PromRatio(good="g", total="t")),
    ]
    windows = [make_window(), make_window("1d", 86400)]
    counts = make_source(handler).counts(slos, windows)
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
    hourly = make_source(handler, rollup_windows="hourly").counts(slos, windows)
    assert hourly[("api-a", "1d")] == EventCounts(good=90.0, total=100.0)  # as of 10 min ago
    assert not [q for q in queries if "gap0:" in q]
