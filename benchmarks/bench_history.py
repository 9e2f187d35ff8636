"""SLO history: 1,000 SLOs with 90 days of history as the retention policy keeps it (the last
2 days raw, one snapshot a minute; hourly rollups before), on SQLite.

Measures, through the API (TestClient: server time, no network): one SLO's chart data for its
detail page (`/history` at width 600 over the default 30 days, and `/overlays`) against the
target of 100 ms for both, `/history` over 90 days, the page's own `history.json` (history and
overlays in one request, the series its charts draw) over 30 and 90 days, the heatmap of 30
days over the 1,000 SLOs, and the compaction that rolls up the 2 raw days (the catch-up after
an upgrade) and a round with nothing due. p50/p95 of repeated calls.

python -m benchmarks.bench_history             # prints figures, writes results/history.json
python -m benchmarks.bench_history --store DIR # build the store in DIR once, reuse it after
                                               # (no catch-up figure then: it is compacted)
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from srekit.core.history import budget_burned_in_hour, hour_floor, raw_horizon
from srekit.core.slo import SLO, EventsRatio
from srekit.core.specs import canonical_json
from srekit.core.window import RollingWindow
from srekit.store.database import create_store_engine, transaction, upgrade

RESULTS = Path(__file__).resolve().parent / "results"
SLO_COUNT = 1000
DAYS = 90
RAW_S = 2 * 86400
TARGET_S = 0.100
BATCH = 20_000
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def _timed(call: Callable[[], Any], runs: int) -> dict[str, float]:
    call()  # warm: imports, caches, the first query's plan
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        took.append(time.perf_counter() - started)
    return {
        "p50_ms": round(statistics.median(took) * 1000, 1),
        "p95_ms": round(_percentile(took, 0.95) * 1000, 1),
        "runs": runs,
    }


def _wave(slo_index: int, moment: float) -> float:
    """A burn rate that moves: a daily cycle, and a spike now and then."""
    cycle = 0.6 + 0.4 * math.sin(moment / 86400 * 2 * math.pi + slo_index)
    spike = 12.0 if int(moment / 3600 + slo_index) % 97 == 0 else 0.0
    return cycle + spike


def _generate(engine: Any, *, now: datetime, days: int = DAYS) -> dict[str, float]:
    from srekit.store import repo
    from srekit.store.tables import SloHourRow, SnapshotRow

    started = time.perf_counter()
    with transaction(engine) as session:
        for index in range(SLO_COUNT):
            repo.apply_slo(
                session,
                slo=SLO(
                    service=f"service-{index // 4:03d}",
                    name=f"slo-{index % 4}",
                    objective=0.999,
                    window=RollingWindow(30 * 86400),
                    indicator=EventsRatio(good="status < 500"),
                ),
                actor="bench",
            )
        ids = [row.id for row in repo.list_slos(session)]
    applied = time.perf_counter() - started
    seam = raw_horizon(now, raw_s=RAW_S)
    first_hour = hour_floor(now - timedelta(days=days))
    rollups = 0
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []

    def flush(table: Any) -> None:
        with transaction(engine) as session:
            session.execute(insert(table), batch)
        batch.clear()

    hour = first_hour
    while hour < seam:  # hour by hour, every SLO, as compaction writes them
        for position, slo_id in enumerate(ids):
            burn = _wave(position, hour.timestamp())
            remaining = 0.5 + 0.3 * math.sin(hour.timestamp() / 86400 / 7 + position)
            burns = {w: [burn * 0.9, burn * 1.1, burn, burn] for w in WINDOWS}
            batch.append(
                {
                    "slo_id": slo_id,
                    "hour_start": hour,
                    "samples": 60,
                    "objective": 0.999,
                    "window": "30d",
                    "window_s": 2592000,
                    **{
                        f"{figure}_{part}": value
                        for figure, base in (
                            ("sli", 1 - 0.001 * burn),
                            ("remaining", remaining),
                            ("bad_events", 5000 * (1 - remaining)),
                            ("total_events", 10_000_000.0),
                        )
                        for part, value in zip(
                            ("min", "max", "first", "last"),
                            (base * 0.99, base * 1.01, base, base),
                            strict=True,
                        )
                    },
                    "burn_rates_json": canonical_json(burns),
                    "budget_burned": budget_burned_in_hour(burn, window_s=2592000),
                    "worst_data": "ok",
                    "worst_policy_state": "normal",
                }
            )
            rollups += 1
            if len(batch) >= BATCH:
                flush(SloHourRow)
        hour += timedelta(hours=1)
    if batch:
        flush(SloHourRow)
    day = first_hour.replace(hour=0)
    while day < seam:  # each day's rollup from its hours, as compaction keeps them
        with transaction(engine) as session:
            repo.refresh_day_rollups(session, day_start=day)
        day += timedelta(days=1)
    rollups_s = time.perf_counter() - started
    started = time.perf_counter()
    raw = 0
    minute = seam
    moments = []
    while minute < now:
        moments.append(minute)
        minute += timedelta(minutes=1)
    for moment in moments:  # round by round, every SLO, as the evaluator writes them
        for position, slo_id in enumerate(ids):
            burn = _wave(position, moment.timestamp())
            remaining = 0.5 + 0.3 * math.sin(moment.timestamp() / 86400 / 7 + position)
            batch.append(
                {
                    "slo_id": slo_id,
                    "slo_version": 1,
                    "evaluated_at": moment,
                    "objective": 0.999,
                    "window": "30d",
                    "window_s": 2592000,
                    "sli": 1 - 0.001 * burn,
                    "remaining": remaining,
                    "consumed": 1 - remaining,
                    "allowed_bad_events": 10_000.0,
                    "good_events": 10_000_000 - 5000 * (1 - remaining),
                    "total_events": 10_000_000.0,
                    "burn_rates_json": canonical_json(dict.fromkeys(WINDOWS, burn)),
                    "time_to_exhaustion_s": remaining * 2592000 / burn,
                    "policy_state": "normal",
                    "data": "ok",
                    "detail": None,
                    "alerts_json": "[]",
                }
            )
            raw += 1
            if len(batch) >= BATCH:
                flush(SnapshotRow)
    if batch:
        flush(SnapshotRow)
    return {
        "slos_applied_s": round(applied, 1),
        "rollup_rows": rollups,
        "rollups_inserted_s": round(rollups_s, 1),
        "raw_snapshots": raw,
        "raw_inserted_s": round(time.perf_counter() - started, 1),
    }


def _build(engine: Any, *, reused: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The store's history and its compaction's figures (none for a store built before)."""
    from srekit.flows.history import compact_history

    if reused:
        return {"reused_store": True}, {}
    now = datetime.now(UTC)
    print(f"generating {SLO_COUNT} SLOs × {DAYS} days of history …", flush=True)
    generated = _generate(engine, now=now)
    print(json.dumps(generated), flush=True)
    started = time.perf_counter()
    catch_up = compact_history(engine, now=datetime.now(UTC), raw_s=RAW_S, hourly_s=396 * 86400)
    catch_up_s = time.perf_counter() - started
    compaction: dict[str, Any] = {
        "catch_up_hours": len(catch_up.rolled_hours),
        "catch_up_rollups": catch_up.rollups,
        "catch_up_s": round(catch_up_s, 2),
    }
    rolled = set(catch_up.rolled_hours)
    compaction["idle_round"] = _timed(
        lambda: compact_history(
            engine,
            now=datetime.now(UTC),
            raw_s=RAW_S,
            hourly_s=396 * 86400,
            rolled=rolled,
            purged=set(catch_up.purged_hours),
        ),
        5,
    )
    print(json.dumps({"compaction": compaction}), flush=True)
    return generated, compaction


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--store", type=Path, default=None, help="a directory to keep the built store in"
    )
    args = parser.parse_args(argv)
    from fastapi.testclient import TestClient

    from srekit.api import create_app
    from srekit.config import Settings
    from srekit.store.repo import create_token

    with tempfile.TemporaryDirectory(prefix="srekit-bench-history-") as scratch:
        home = str(args.store or scratch)
        Path(home).mkdir(parents=True, exist_ok=True)
        database = Path(home) / "srekit.db"
        reused = database.exists()
        engine = create_store_engine(f"sqlite:///{database}")
        upgrade(engine)
        generated, compaction = _build(engine, reused=reused)
        with transaction(engine) as session:
            _, token = create_token(
                session, role="viewer", name=f"bench-{time.time_ns()}", actor="bench"
            )
        headers = {"Authorization": f"Bearer {token}"}
        app = create_app(Settings(home=Path(home)), engine=engine)
        figures: dict[str, Any] = {}
        path = "/api/v1/slos/service-123/slo-2"
        with TestClient(app) as client:

            def get(url: str, **params: Any) -> Any:
                response = client.get(url, headers=headers, params=params)
                assert response.status_code == 200, response.text
                return response

            body = get(f"{path}/history").json()
            figures["history_30d_points"] = sum(len(s["t"]) for s in body["series"].values()) + sum(
                len(s["t"]) for s in body["burn_rates"].values()
            )
            figures["history_30d_bytes"] = len(get(f"{path}/history").content)
            figures["history_30d_w600"] = _timed(lambda: get(f"{path}/history"), args.runs)
            figures["overlays_30d"] = _timed(lambda: get(f"{path}/overlays"), args.runs)
            figures["detail_page_charts"] = _timed(
                lambda: (get(f"{path}/history"), get(f"{path}/overlays")), args.runs
            )
            start = (datetime.now(UTC) - timedelta(days=DAYS)).isoformat()
            figures["history_90d_w600"] = _timed(
                lambda: get(f"{path}/history", **{"from": start}), args.runs
            )
            # what the SLO page itself fetches: one request, its session's cookie
            from benchmarks.bench_web import _log_in

            _log_in(client, token)
            page = "/ui/slos/service-123/slo-2/history.json"
            figures["page_history_json_30d_bytes"] = len(get(page).content)
            figures["page_history_json_30d"] = _timed(lambda: get(page), args.runs)
            figures["page_history_json_90d"] = _timed(lambda: get(page, range="90d"), args.runs)
            figures["heatmap_30d_1000_slos"] = _timed(
                lambda: get("/api/v1/history/heatmap", days=30), max(5, args.runs // 3)
            )
        engine.dispose()
    result = {
        "slos": SLO_COUNT,
        "days": DAYS,
        "target_detail_page_ms": TARGET_S * 1000,
        **generated,
        "compaction": compaction,
        **figures,
    }
    result["detail_page_meets_target"] = figures["detail_page_charts"]["p95_ms"] <= TARGET_S * 1000
    result["page_90d_meets_target"] = figures["page_history_json_90d"]["p95_ms"] <= TARGET_S * 1000
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "history.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
