"""Short windows read from srekit's recorded error ratios."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from srekit.core import promql
from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO, PromLatency, PromRatio
from srekit.core.window import RollingWindow
from tests.sources.prometheus.conftest import (
    AT,
    form_of,
    make_slo,
    make_source,
    make_window,
    vector,
)


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
        form = form_of(request)
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
        return vector(
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
        make_slo("a", PromRatio(good="g", total="t")),
        make_slo("quiet", PromLatency("h", 0.5)),
        make_slo("unrecorded", PromRatio(bad="b", total="t")),
        SLO("api", "hourly", 0.9, RollingWindow(300), PromRatio(good="g", total="t")),
    ]
    windows = [make_window("5m", 300), make_window("1h", 3600), make_window("1d", 86400)]
    counts = make_source(handler, use_recordings=True, use_rollups=False).counts(slos, windows)
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
        query = form_of(request)["query"]
        if query.startswith("{__name__=~"):
            return _recorded(
                ("5m", "api", "a", "0.1"),
                ("5m", "api", "a", "0.3"),
                ("30m", "api", "a", "NaN"),
                ("30m", "api", "a", "NaN"),  # agreeing duplicates (replicas) are fine
            )
        raw_queries.append(query)
        return vector(("api-a", "good@5m", 9), ("api-a", "total@5m", 10))

    slo = make_slo("a", PromRatio(good="g", total="t"))
    windows = [make_window("5m", 300), make_window("30m", 1800)]
    counts = make_source(handler, use_recordings=True).counts([slo], windows)
    assert counts == {("api-a", "5m"): EventCounts(good=9.0, total=10.0), ("api-a", "30m"): None}
    assert len(raw_queries) == 1
    assert "good@30m" not in raw_queries[0]


def test_recordings_off_refused_or_not_applicable_mean_raw_queries() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = form_of(request)["query"]
        queries.append(query)
        if query.startswith("{__name__=~"):
            error = {"status": "error", "errorType": "bad_data", "error": "not allowed"}
            return httpx.Response(400, json=error)
        return vector(("api-a", "total@5m", 3), ("api-a", "total@90s", 2))

    slo = make_slo("a", PromRatio(good="g", total="t"))
    five = make_window("5m", 300)
    assert make_source(handler, use_recordings=True).counts([slo], [five]) == {
        ("api-a", "5m"): EventCounts(good=0.0, total=3.0)
    }
    assert len(queries) == 2
    queries.clear()
    make_source(handler, use_recordings=False).counts([slo], [five])
    assert len(queries) == 1
    queries.clear()
    # Windows srekit does not record (or labelled otherwise) never ask for recordings.
    odd = [make_window("90s", 90), WindowQuery("five minutes", AT - timedelta(minutes=5), AT)]
    make_source(handler, use_recordings=True).counts([slo], odd)
    assert len(queries) == 1
    assert not queries[0].startswith("{__name__=~")
