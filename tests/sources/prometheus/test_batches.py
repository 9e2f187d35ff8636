"""Many SLI parts in few queries: batching, chunking, and blaming a refused part."""

from __future__ import annotations

import httpx
import pytest

from srekit.core.sli import EventCounts
from srekit.core.slo import PromErrorRatio, PromRatio
from srekit.errors import SpecError
from tests.sources.prometheus.conftest import (
    AT,
    form_of,
    make_slo,
    make_source,
    make_window,
    vector,
)


def test_counts_batch_and_evaluate_at_the_window_end() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(form_of(request))
        return vector(
            ("api-errors", "bad@1h", 5),
            ("api-errors", "total@1h", 1000),
            ("api-raw", "error_ratio@1h", 0.25),
            ("api-empty", "good@1h", 3),
        )

    slos = [
        make_slo("errors", PromRatio(bad='x{code="500"}', total="x")),
        make_slo("raw", PromErrorRatio("sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))")),
        make_slo("empty", PromRatio(good="g", total="t")),
    ]
    counts = make_source(handler, token="s3cret").counts(slos, [make_window()])
    assert counts == {
        ("api-errors", "1h"): EventCounts(good=995.0, total=1000.0),
        ("api-raw", "1h"): EventCounts(good=0.75, total=1.0, counted=False),
        ("api-empty", "1h"): None,
    }
    assert len(seen) == 1
    assert seen[0]["time"] == f"{AT.timestamp():.3f}"
    assert seen[0]["query"].count(" or ") == 4


def test_batches_are_chunked() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(form_of(request)["query"].count("label_replace(sum("))
        return vector()

    slos = [make_slo(f"s{n}", PromRatio(good="g", total="t")) for n in range(25)]
    make_source(handler, batch_size=20).counts(slos, [make_window()])
    assert sorted(sizes) == [10, 20, 20]


def test_refused_batch_is_split_to_blame_one_slo() -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = form_of(request)["query"]
        queries.append(query)
        if "broken(" in query:
            error = {"status": "error", "errorType": "bad_data", "error": "1:5: parse error"}
            return httpx.Response(400, json=error)
        return vector()

    slos = [make_slo(f"ok{n}", PromRatio(good="g", total="t")) for n in range(6)]
    slos.insert(3, make_slo("bad", PromRatio(good="g", total="broken({{.window}}")))
    with pytest.raises(SpecError) as raised:
        make_source(handler).counts(slos, [make_window()])
    assert raised.value.field == "indicator.total"
    assert raised.value.file == "api.yaml"
    assert "SLO api-bad" in str(raised.value)
    assert "parse error" in str(raised.value)
    assert len(queries) <= 1 + 2 * 4
