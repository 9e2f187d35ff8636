"""The SLO lines kept between requests: reused while the statuses, the catalog and the open
incidents are the same, rebuilt when any moves or after `ttl_s`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from srekit.core.incident import Incident, IncidentState, IncidentView, Severity
from srekit.core.status import SloStatus
from srekit.flows.dashboard import SloLine
from srekit.flows.gate import Catalog
from srekit.web.lines import LineCache

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _view(incident_id: int, state: IncidentState = IncidentState.TRIGGERED) -> IncidentView:
    incident = Incident(
        id=incident_id,
        title="down",
        severity=Severity.P1,
        state=state,
        opened_at=NOW,
        services=("checkout",),
    )
    return IncidentView(incident=incident, summary=None, created_by="t", resolved_by=None)


def test_lines_are_rebuilt_only_when_what_they_were_built_from_moves() -> None:
    cache = LineCache(ttl_s=60)
    builds: list[list[SloLine]] = []

    def build() -> list[SloLine]:
        builds.append([])
        return builds[-1]

    statuses: list[object] = []
    catalog = Catalog(services=frozenset(), slos={}, policies={})
    views = [_view(1)]

    def lines(**changes: object) -> list[SloLine]:
        given = {"statuses": statuses, "catalog": catalog, "open_incidents": views, **changes}
        return cache.lines(build=build, **given)  # type: ignore[arg-type]

    first = lines()
    assert lines() is first
    assert lines(open_incidents=[_view(1)]) is first  # equal incidents: the same lines
    assert len(builds) == 1
    assert lines(statuses=[]) is not first  # a new refresh of the statuses, even if equal
    assert lines(catalog=replace(catalog)) is builds[2]  # a reloaded catalog
    acknowledged = lines(open_incidents=[_view(1, IncidentState.ACKNOWLEDGED)])
    assert acknowledged is builds[3]
    assert lines(open_incidents=[]) is builds[4]
    assert len(builds) == 5


def test_lines_are_rebuilt_after_their_time_off_the_request() -> None:
    cache = LineCache(ttl_s=0.05)
    built: list[list[SloLine]] = []

    def build() -> list[SloLine]:
        built.append([])
        return built[-1]

    catalog = Catalog(services=frozenset(), slos={}, policies={})
    statuses: list[object] = []

    def lines() -> list[SloLine]:
        return cache.lines(statuses=statuses, catalog=catalog, open_incidents=[], build=build)  # type: ignore[arg-type]

    first = lines()
    assert lines() is first
    assert len(built) == 1
    time.sleep(0.06)
    assert lines() is first  # the kept lines answer while a thread rebuilds them
    refreshing = cache.refreshing
    assert refreshing is not None
    refreshing.join(5)
    assert len(built) == 2
    assert lines() is built[1]


def test_a_failed_rebuild_keeps_the_lines_it_had() -> None:
    cache = LineCache(ttl_s=0.0)
    catalog = Catalog(services=frozenset(), slos={}, policies={})
    statuses: list[SloStatus] = []
    kept: list[SloLine] = []

    def lines(build: Callable[[], list[SloLine]]) -> list[SloLine]:
        return cache.lines(statuses=statuses, catalog=catalog, open_incidents=[], build=build)

    def broken() -> list[SloLine]:
        raise RuntimeError("store gone")

    assert lines(lambda: kept) is kept
    assert lines(broken) is kept  # too old: a thread rebuilds, and fails
    refreshing = cache.refreshing
    assert refreshing is not None
    refreshing.join(5)
    assert lines(broken) is kept
    if cache.refreshing is not None:
        cache.refreshing.join(5)


def test_figures_of_the_kept_lines_are_computed_once_per_build() -> None:
    cache = LineCache(ttl_s=60)
    catalog = Catalog(services=frozenset(), slos={}, policies={})
    statuses: list[SloStatus] = []
    computed: list[str] = []

    def count(name: str) -> str:
        computed.append(name)
        return name

    kept = cache.lines(statuses=statuses, catalog=catalog, open_incidents=[], build=list)
    assert cache.derived(kept, "order", lambda: count("a")) == "a"
    assert cache.derived(kept, "order", lambda: count("b")) == "a"  # kept
    assert cache.derived([], "order", lambda: count("c")) == "c"  # not the kept lines
    rebuilt = cache.lines(statuses=[], catalog=catalog, open_incidents=[], build=list)
    assert cache.derived(rebuilt, "order", lambda: count("d")) == "d"  # new lines, new figures
    assert cache.derived(kept, "order", lambda: count("e")) == "e"  # the old lines: not kept
    assert computed == ["a", "c", "d", "e"]
