"""`GET /metrics` with 1,000 SLOs' figures: a scrape after new statuses (rendering them), and
the scrapes between evaluation rounds (served from memory). Target: ≤ 250 ms and ≤ 10 ms.

python -m benchmarks.bench_metrics     # prints figures, writes benchmarks/results/metrics.json
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from srekit.api import create_app
from srekit.config import Settings
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import SloStatus, evaluate_slo, status_windows
from srekit.core.window import RollingWindow
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.repo import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

RESULTS = Path(__file__).resolve().parent / "results"
SLO_COUNT = 1_000
SCRAPES = 20


def _statuses(count: int, at: datetime) -> list[SloStatus]:
    """Every SLO evaluated on every window, with a different error ratio each."""
    statuses = []
    for index in range(count):
        slo = SLO(
            service=f"service-{index // 4:04d}",
            name=("availability", "latency", "errors", "checkout")[index % 4],
            objective=0.999,
            window=RollingWindow(30 * 86400),
            indicator=EventsRatio(good="status < 500"),
        )
        readings = {
            w.label: EventCounts(good=w.duration_s * (1 - index % 7 / 5000), total=w.duration_s)
            for w in status_windows(slo, at)
        }
        statuses.append(evaluate_slo(slo, readings=readings, at=at))
    return statuses


class _Evaluator:
    """The latest statuses as the evaluator serves them; `refresh()` as after a round."""

    def __init__(self, statuses: list[SloStatus]) -> None:
        self.statuses = statuses
        self.version = 0

    def refresh(self) -> None:
        self.version += 1
        self.statuses = list(self.statuses)

    def status_version(self) -> object:
        return self.version

    def latest_statuses(self, service: str | None = None) -> list[SloStatus]:
        return self.statuses


def main() -> dict[str, float]:
    evaluator = _Evaluator(_statuses(SLO_COUNT, datetime.now(UTC)))
    with tempfile.TemporaryDirectory() as home:
        engine = create_store_engine(f"sqlite:///{home}/srekit.db")
        upgrade(engine)
        with transaction(engine) as session:
            token = create_token(session, role="viewer", name="bench", actor="bench")[1]
        app = create_app(Settings(home=Path(home)), engine=engine, evaluator=evaluator)
        headers = {"Authorization": f"Bearer {token}"}
        rendering: list[float] = []
        cached: list[float] = []
        with TestClient(app) as client:
            body = client.get("/metrics", headers=headers).content  # warm up
            for _ in range(SCRAPES):
                evaluator.refresh()
                time.sleep(1.05)  # past the statuses' 1 s cache: the next scrape reloads them
                started = time.perf_counter()
                assert client.get("/metrics", headers=headers).status_code == 200
                rendering.append(time.perf_counter() - started)
                started = time.perf_counter()
                body = client.get("/metrics", headers=headers).content
                cached.append(time.perf_counter() - started)
        engine.dispose()
    series = sum(
        1 for line in body.decode().splitlines() if line.startswith("srekit_slo_") and "{" in line
    )
    figures = {
        "slos": SLO_COUNT,
        "slo_series": series,
        "bytes": len(body),
        "rendering_scrape_median_ms": round(statistics.median(rendering) * 1000, 1),
        "rendering_scrape_max_ms": round(max(rendering) * 1000, 1),
        "cached_scrape_median_ms": round(statistics.median(cached) * 1000, 2),
        "cached_scrape_max_ms": round(max(cached) * 1000, 2),
        "target_rendering_ms": 250,
        "target_cached_ms": 10,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "metrics.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
