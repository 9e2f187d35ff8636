"""The SLO guard of `srekit chaos run` against a real Prometheus: a day of history backfilled
with promtool, and a service Prometheus scrapes every second whose errors the experiment's
method turns on. The burn rate crosses the guard's limit during the method: the run aborts,
rolls back, and the journal says why, with the burn rate this test computes from the counters
it served. A service whose budget is already in a freeze refuses the run unless --force.

Counters only rise when scraped (by a fixed amount per scrape), and the errors and the
successes are scraped together, so Prometheus's `increase()` extrapolates both the same way:
its 5-minute error ratio is exactly errors / requests between the first and the last scrape."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.cli.conftest import run
from tests.flows.chaos_live import http_service
from tests.integration.prometheus_fixture import (
    PrometheusServer,
    backfill_openmetrics,
    require_binary,
)

OBJECTIVE = 0.99  # both SLOs: a budget of 1 % errors
MAX_BURN_RATE = 10
HEALTHY = (100, 0)  # (successes, errors) added at each scrape
FAILING = (50, 50)
START = 1_000_000  # counters start high: increase() never extrapolates them below zero
# the frozen service's day: 85 errors in 10,000 requests a minute, 85 % of its budget spent
FROZEN_PER_MINUTE = (9_915, 85)

SPECS = f"""
apiVersion: srekit/v1
kind: SLO
service: shop
name: availability
objective: {OBJECTIVE}
window: 1d
indicator:
  ratio:
    bad: http_requests_total{{service="shop",code="500"}}
    total: http_requests_total{{service="shop"}}
---
apiVersion: srekit/v1
kind: SLO
service: frozen
name: availability
objective: {OBJECTIVE}
window: 1d
indicator:
  ratio:
    bad: http_requests_total{{service="frozen",code="500"}}
    total: http_requests_total{{service="frozen"}}
"""


@dataclass
class Shop:
    """The scraped service: its counters, every scrape's values, and whether it fails."""

    failing: bool = False
    ok: int = START
    errors: int = START
    scrapes: list[tuple[int, int]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> tuple[int, bytes]:
        with self.lock:
            self.calls.append(path)
            if path == "/fail":
                self.failing = True
            elif path == "/heal":
                self.failing = False
            elif path == "/metrics":
                ok, errors = FAILING if self.failing else HEALTHY
                self.ok, self.errors = self.ok + ok, self.errors + errors
                self.scrapes.append((self.ok, self.errors))
                return 200, (
                    "# TYPE http_requests_total counter\n"
                    f'http_requests_total{{service="shop",code="200"}} {self.ok}\n'
                    f'http_requests_total{{service="shop",code="500"}} {self.errors}\n'
                ).encode()
            return 200, b"ok"

    def burn_rates(self) -> list[float]:
        """The 5-minute burn rate as of each scrape after the first: errors over requests
        since the first scrape, over the budget."""
        with self.lock:
            first_ok, first_errors = self.scrapes[0]
            rates = []
            for ok, errors in self.scrapes[1:]:
                bad = errors - first_errors
                rates.append(bad / (bad + ok - first_ok) / (1 - OBJECTIVE))
        return rates


def _history(path: Path, *, end: datetime) -> None:
    """A day of per-minute samples ending at `end`: the shop clean, the frozen service at
    FROZEN_PER_MINUTE."""
    minutes = 26 * 60
    start_s = int(end.timestamp()) - minutes * 60
    lines = ["# TYPE http_requests counter"]
    for service, (ok, errors) in (("shop", (10_000, 0)), ("frozen", FROZEN_PER_MINUTE)):
        for code, per_minute in (("200", ok), ("500", errors)):
            lines += [
                f'http_requests_total{{service="{service}",code="{code}"}}'
                f" {START + per_minute * i} {start_s + 60 * i}"
                for i in range(minutes + 1)
            ]
    path.write_text("\n".join([*lines, "# EOF", ""]))


@dataclass(frozen=True)
class Stage:
    prometheus: str
    shop: Shop
    shop_url: str
    specs: Path


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    for binary in ("prometheus", "promtool"):
        require_binary(binary)
    workdir = tmp_path_factory.mktemp("chaos-guard")
    # the history ends 10 minutes ago: no backfilled sample falls in a 5-minute window now
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    _history(workdir / "history.om", end=end)
    backfill_openmetrics(workdir / "history.om", workdir / "data")
    shop = Shop()
    specs = workdir / "slos.yaml"
    specs.write_text(SPECS)
    with http_service(shop.answer) as shop_url:
        server = PrometheusServer(
            workdir / "data",
            workdir / "server",
            scrape_configs=[
                {
                    "job_name": "shop",
                    "static_configs": [{"targets": [shop_url.removeprefix("http://")]}],
                }
            ],
            global_config={"scrape_interval": "1s"},
        )
        with server:
            yield Stage(server.url, shop, shop_url, specs)


def _query(url: str, expr: str) -> float | None:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def _experiment(shop_url: str, guarded: str, *, pause_s: float) -> dict[str, Any]:
    return {
        "title": f"{guarded} fails under chaos",
        "description": "the method turns the service's errors on; the rollback turns them off",
        "steady-state-hypothesis": {
            "title": "up",
            "probes": [
                {
                    "type": "probe",
                    "name": "up",
                    "tolerance": 200,
                    "provider": {"type": "http", "url": f"{shop_url}/up", "timeout": 5},
                }
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "fail",
                "provider": {"type": "http", "url": f"{shop_url}/fail", "timeout": 5},
                "pauses": {"after": pause_s},
            }
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "heal",
                "provider": {"type": "http", "url": f"{shop_url}/heal", "timeout": 5},
            }
        ],
        "extensions": [
            {
                "name": "srekit",
                "blast_radius": {"allowed_targets": [shop_url.removeprefix("http://")]},
                "slo_guard": {
                    "slos": [guarded],
                    "min_remaining": 0.05,
                    "max_burn_rate": MAX_BURN_RATE,
                    "burn_window": "5m",
                },
            }
        ],
    }


def _run(stage: Stage, tmp_path: Path, data: dict[str, Any], *extra: str) -> tuple[int, str, str]:
    file = tmp_path / "experiment.yaml"
    file.write_text(yaml.safe_dump(data))
    env = {"SREKIT_HOME": str(tmp_path / "home"), "SREKIT_DATABASE_URL": ""}
    return run(
        "chaos",
        "run",
        file,
        "-f",
        stage.specs,
        "--prometheus-url",
        stage.prometheus,
        *extra,
        env=env,
    )


def test_the_guard_aborts_the_run_when_the_burn_rate_crosses_its_limit(
    stage: Stage, tmp_path: Path
) -> None:
    shop = stage.shop
    # five clean scrapes in Prometheus first: a 5-minute burn rate of exactly 0
    deadline = time.monotonic() + 60
    shop_errors = 'sum(increase(http_requests_total{service="shop",code="500"}[5m]))'
    while len(shop.scrapes) < 5 or _query(stage.prometheus, shop_errors) is None:
        assert time.monotonic() < deadline, "Prometheus did not scrape the shop"
        time.sleep(0.2)
    started = time.monotonic()
    journal_file = tmp_path / "journal.json"
    data = _experiment(stage.shop_url, "shop/availability", pause_s=120)
    code, out, err = _run(stage, tmp_path, data, "--journal", str(journal_file))
    took_s = time.monotonic() - started
    assert code == 1, err
    assert "Traceback" not in err
    journal = json.loads(journal_file.read_text())
    assert journal["status"] == "aborted"
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [
        ("heal", "succeeded")
    ]
    stopped = journal["extensions"][0]["stopped_because"]
    assert "stopped: shop/availability burns its error budget" in out
    # "shop/availability burns its error budget 15.4x over 5m, above the guard's 10x"
    assert stopped.startswith("shop/availability burns its error budget ")
    assert stopped.endswith(f"x over 5m, above the guard's {MAX_BURN_RATE}x")
    shown = stopped.split("budget ")[1].split("x over")[0]
    # the rate the guard read is one this test computes from the counters served, above 10
    expected = {f"{rate:.3g}" for rate in shop.burn_rates() if rate > MAX_BURN_RATE}
    assert shown in expected, (shown, sorted(expected))
    requests = [path for path in shop.calls if path != "/metrics"]
    assert requests[-3:] == ["/up", "/fail", "/heal"]  # the steady state, the fault, rolled back
    assert shop.failing is False
    assert took_s < 60  # aborted long before the method's 120 s pause was over


def test_a_service_in_a_freeze_refuses_the_run_unless_forced(stage: Stage, tmp_path: Path) -> None:
    shop = stage.shop
    # the frozen service's figures, from Prometheus: 85 % of its budget spent
    status_code, status_out, status_err = run(
        "status", "-f", str(stage.specs), "--prometheus-url", stage.prometheus, "--format", "json"
    )
    assert status_code in (0, 1), status_err
    frozen = next(item for item in json.loads(status_out) if item["service"] == "frozen")
    consumed = FROZEN_PER_MINUTE[1] / sum(FROZEN_PER_MINUTE) / (1 - OBJECTIVE)
    assert frozen["error_budget"]["remaining"] == pytest.approx(1 - consumed, abs=1e-9)
    assert frozen["policy_state"] == "feature_freeze"  # 10 % < 15 % left <= 25 %
    calls = len(shop.calls)
    data = _experiment(stage.shop_url, "frozen/availability", pause_s=0)
    code, _, err = _run(stage, tmp_path, data, "--no-store")
    assert code == 1
    assert "refused: frozen/availability is in feature_freeze" in " ".join(err.split())
    assert [path for path in shop.calls[calls:] if path != "/metrics"] == []  # nothing ran
    code, out, err = _run(stage, tmp_path, data, "--no-store", "--force", "--format", "json")
    assert "warning: --force: frozen/availability is in feature_freeze" in " ".join(err.split())
    journal = json.loads(out)
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    assert code == 0, err
    assert [path for path in shop.calls[calls:] if path != "/metrics"] == [
        "/up",
        "/fail",
        "/up",
        "/heal",
    ]
