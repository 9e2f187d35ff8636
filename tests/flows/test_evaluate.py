"""Evaluating SLOs against a real event store: a batch that runs past the store's time limit is
asked again one SLO at a time, so only the costly SLO loses its status."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from srekit.core.sli import SourceSet
from srekit.core.status import DataState
from srekit.flows.evaluate import evaluate_by_source, evaluate_statuses
from srekit.sources.events import EventStore
from tests.sources.events.conftest import (
    END,
    Event,
    expected_counts,
    make_events,
    make_slo,
    write_nginx,
)

# About 0.1 ms of CPU per event and little memory: seconds over 20 000 events
COSTLY = "levenshtein(repeat(path, 30), repeat(method, 100)) > 0"


def test_a_costly_slo_times_out_alone_and_its_neighbours_keep_their_statuses(
    tmp_path: Path,
) -> None:
    events = make_events(7, 20_000, timedelta(hours=6))
    cheap = make_slo("api", "availability", "status < 500")
    costly = make_slo("api", "costly", COSTLY)
    latency = make_slo("api", "latency", "duration_s < 0.5")
    with EventStore(tmp_path / "store", query_timeout_s=0.2) as store:
        store.ingest(write_nginx(tmp_path / "a.log", events), service="api", format="nginx")
        sources = SourceSet(events=store)
        started = time.perf_counter()
        statuses = evaluate_statuses([cheap, costly, latency], at=END, sources=sources, policies={})
        elapsed = time.perf_counter() - started
        by_source = evaluate_by_source([costly, cheap], at=END, sources=sources, policies={})
    by_name = {status.slo: status for status in statuses}
    assert by_name["costly"].data is DataState.ERROR
    assert "ran past 0.2 s" in (by_name["costly"].detail or "")
    # the other two were counted, and their numbers are the events' own
    day = (END - timedelta(days=30), END)
    goods: dict[str, Callable[[Event], bool]] = {
        "availability": lambda e: e.status < 500,
        "latency": lambda e: e.duration_s < 0.5,
    }
    for name, good in goods.items():
        expected = expected_counts(events, *day, good, lambda e: True)
        assert expected is not None
        assert by_name[name].data is DataState.OK
        assert by_name[name].sli == expected[0] / expected[1]
    # the batch and the costly SLO alone were each stopped after about 0.2 s
    assert elapsed < 3.0, elapsed
    assert [s.data for s in by_source.statuses] == [DataState.ERROR, DataState.OK]
    assert "ran past" in by_source.failures["events"]


def test_the_stored_specs_are_the_applied_ones(engine: Engine) -> None:
    """What the CLI reads from the store in place of spec files: the same SLOs and policies."""
    from srekit.flows.evaluate import stored_specs
    from srekit.spec.loader import load_specs
    from srekit.store.database import transaction
    from srekit.store.repo import apply_specs

    applied = load_specs([Path(__file__).resolve().parents[2] / "examples" / "slos"])
    assert stored_specs(engine).slos == ()
    with transaction(engine) as session:
        apply_specs(session, specs=applied, actor="ci")
    stored = stored_specs(engine)
    by_id = {slo.id: slo for slo in applied.slos}
    assert sorted(slo.id for slo in stored.slos) == sorted(by_id)
    for slo in stored.slos:  # the stored row keeps no file: all else is as written
        assert slo == replace(by_id[slo.id], source_file=slo.source_file)
    assert stored.policies == applied.policies
