"""An indicator's parts read back as good/total events."""

from __future__ import annotations

import httpx

from srekit.core.sli import EventCounts
from srekit.core.slo import PromRatio
from tests.sources.prometheus.conftest import make_slo, make_source, make_window, vector


def test_bad_events_missing_means_none_bad() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return vector(("api-errors", "total@1h", 10))

    slo = make_slo("errors", PromRatio(bad='x{code="500"}', total="x"))
    assert make_source(handler).counts([slo], [make_window()]) == {
        ("api-errors", "1h"): EventCounts(good=10.0, total=10.0)
    }
