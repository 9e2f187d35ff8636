"""Status counts for 1,000 SLOs from a real Prometheus: recordings, rollups, raw, slo-generator.

Run from the repository root: `.venv/bin/python -m benchmarks.bench_status_prometheus`.

History: 100 services × 2 counter series (`code` 200 and 500) at 60 s for 30 days, ending at
the current minute, because google's slo-generator (compared here) queries Prometheus at the
current time whatever timestamp it is given. Its first 6 hours carry no events, so a 30-day
window ending a few minutes later holds the same events; the SLI then matches exactly.

srekit is timed on one server holding the raw history, srekit's hourly rollups (30 days) and
its 5m–6h error-ratio recordings (the last 7 hours, evaluated every minute), all backfilled by
`promtool` from rules that record 100 SLOs each (promtool writes a block per rule and block
range, and 1,000 SLOs' rules make more blocks than Prometheus has file descriptors for). The
server merges those overlapping blocks about a minute after it starts; timing waits for that.
Each figure is the median of several runs of `PrometheusSource.counts()`:
- raw: `use_rollups=False, use_recordings=False`, one batched query per 200 parts;
- rollups: `use_recordings=False`, windows of a day or more from the rollups;
- recordings: the defaults, 5m–6h from the recorded ratios as well (the status path when
  srekit's rules are deployed); also timed end to end through `evaluate_statuses`.
slo-generator 2.6.0 (its own venv under benchmarks/results/, with `setuptools<70`, which it needs
for `pkg_resources`) runs `compute()` per SLO, one 30-day step, two queries per SLO, against the
raw server. Timed for the 30-day window alone and for every window `srekit status` reads
(5m 30m 1h 2h 6h 1d 3d 30d; slo-generator only computes the 30-day step).

Rollups are read two ways: `exact` (the default) completes each window with the raw minutes
after the last rollup (`last_rollup_before_at_s` ago) and before the window's start, one batch
of queries per 200 distinct pieces; `hourly` reads the rollups alone, a window ending at the
last rollup, one query for all SLOs.

Cross-checks: exact rollups against raw counters at the same instant, hourly rollups against
raw counters at the last rollup, raw and rollups against slo-generator, and recorded ratios
against raw counters at each rule group's last evaluation.
slo-generator's reports carry the timestamp it was given, not the time it queried, so the driver
notes the wall clock around each SLO's `compute()`, and srekit's raw SLI is also read at those
instants on the same server (`raw_vs_slo_generator_at_its_query_instants`): like with like, however
long after the data's end slo-generator ran.

Figures go to stdout and benchmarks/results/status_prometheus.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from tests.integration.prometheus_fixture import (
    Backfilled,
    ServiceSpec,
    generate,
    serve,
    serve_with_recordings,
    serve_with_rollups,
)

from srekit.core import promql
from srekit.core.sli import EventCounts, SourceSet, WindowQuery
from srekit.core.slo import SLO, PromRatio
from srekit.core.window import RollingWindow
from srekit.flows.evaluate import evaluate_statuses
from srekit.sources.prometheus import PrometheusSource

RESULTS = Path(__file__).resolve().parent / "results"
SLO_GENERATOR_VENV = RESULTS / "slo-generator-venv"
SLO_GENERATOR = ["slo-generator[prometheus]==2.6.0", "setuptools<70"]
SERVICES = 100
STATUS_WINDOWS_S = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
    "30d": 2592000,
}
RECORDED_LABELS = ["5m", "30m", "1h", "2h", "6h"]
RECORDED_HOURS = 7
RUNS = 3

# Ten ways of writing the same availability SLI: five counting good events, five bad ones.
_GOOD = ('code="200"', 'code=~"2.."', 'code!="500"', 'code!~"5.."', 'code=~"200|204"')
_BAD = ('code="500"', 'code=~"5.."', 'code=~"50."', 'code!~"2.."', 'code=~"5.*"')

_DRIVER = """
import json, logging, sys, time
import yaml
from slo_generator.compute import compute

logging.disable(logging.CRITICAL)
config = yaml.safe_load(open(sys.argv[1]))
slos = yaml.safe_load(open(sys.argv[2]))
started = time.perf_counter()
out = {}
for slo in slos:
    before = time.time()
    report = compute(slo, config, timestamp=float(sys.argv[3]))[0]
    after = time.time()
    out[slo["metadata"]["name"]] = {
        "sli": report.get("sli_measurement"),
        "good": report.get("good_events_count"),
        "bad": report.get("bad_events_count"),
        "valid": report.get("valid", True),
        "timestamp": report.get("timestamp"),
        "queried_from": before,
        "queried_to": after,
    }
json.dump({"seconds": time.perf_counter() - started, "slos": out}, sys.stdout)
"""


def _services() -> list[ServiceSpec]:
    """Varied traffic: rates 20–400/min, some diurnal, some with 5xx incidents."""
    specs = []
    for n in range(SERVICES):
        incidents = ((10 + n % 17, 1.5, 0.3),) if n % 7 == 0 else ()
        specs.append(
            ServiceSpec(
                f"svc{n:03d}",
                rate_per_min=20 + (n * 37) % 380,
                error_ratio=0.0005 * (1 + n % 10),
                incidents=incidents,
                diurnal=0.8 if n % 3 == 0 else 0.0,
                histogram=False,
            )
        )
    return specs


def _slos(services: list[ServiceSpec]) -> tuple[list[SLO], list[dict[str, Any]]]:
    """1,000 srekit SLOs and the same SLOs as slo-generator configs."""
    slos: list[SLO] = []
    configs: list[dict[str, Any]] = []
    for spec in services:
        every = f'http_requests_total{{service="{spec.name}"}}'
        for index, matcher in enumerate(_GOOD + _BAD):
            selector = f'http_requests_total{{service="{spec.name}",{matcher}}}'
            counts_bad = index >= len(_GOOD)
            indicator = (
                PromRatio(bad=selector, total=every)
                if counts_bad
                else PromRatio(good=selector, total=every)
            )
            name = f"availability-{index}"
            slos.append(SLO(spec.name, name, 0.99, RollingWindow(2592000), indicator))
            sli: dict[str, str] = {"filter_good": selector, "filter_valid": every}
            if counts_bad:
                complement = f'http_requests_total{{service="{spec.name}",code!~"5.."}}'
                sli = {"filter_good": complement, "filter_bad": selector}
            configs.append(
                {
                    "apiVersion": "sre.google.com/v2",
                    "kind": "ServiceLevelObjective",
                    "metadata": {
                        "name": f"{spec.name}-{name}",
                        "labels": {"service_name": spec.name, "slo_name": name},
                    },
                    "spec": {
                        "description": "availability",
                        "backend": "prometheus",
                        "method": "good_bad_ratio",
                        "exporters": [],
                        "service_level_indicator": sli,
                        "goal": 0.99,
                    },
                }
            )
    return slos, configs


def _windows(at: datetime, labels: list[str]) -> list[WindowQuery]:
    return [
        WindowQuery(label, at - timedelta(seconds=STATUS_WINDOWS_S[label]), at) for label in labels
    ]


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _srekit(
    url: str,
    slos: list[SLO],
    windows: list[WindowQuery],
    *,
    rollups: bool,
    recordings: bool,
    rollup_windows: Literal["exact", "hourly"] = "exact",
    runs: int = RUNS,
) -> dict[str, Any]:
    """Median seconds and HTTP requests of `counts()`, and the last run's counts."""
    seconds: list[float] = []
    requests: list[httpx.Request] = []
    counts: dict[tuple[str, str], EventCounts | None] = {}
    for _ in range(runs):
        requests.clear()
        with httpx.Client(timeout=120, event_hooks={"request": [requests.append]}) as client:
            source = PrometheusSource(
                url,
                client=client,
                use_rollups=rollups,
                use_recordings=recordings,
                rollup_windows=rollup_windows,
            )
            elapsed, result = _timed(lambda: source.counts(slos, windows))  # noqa: B023
        seconds.append(elapsed)
        counts = dict(result)
    return {
        "seconds_median": statistics.median(seconds),
        "seconds_runs": seconds,
        "http_requests": len(requests),
        "counts": counts,
    }


def _status_end_to_end(
    url: str, slos: list[SLO], at: datetime, rollup_windows: Literal["exact", "hourly"]
) -> dict[str, Any]:
    """Median seconds of `evaluate_statuses` (what `srekit status` computes), rules deployed."""
    seconds: list[float] = []
    for _ in range(RUNS):
        with PrometheusSource(url, timeout_s=120, rollup_windows=rollup_windows) as source:
            sources = SourceSet(prometheus=source)
            elapsed, statuses = _timed(
                lambda: evaluate_statuses(
                    slos,
                    at=at,
                    sources=sources,  # noqa: B023
                    policies={},
                )
            )
        seconds.append(elapsed)
    missing = [s for s in statuses if s.data.value != "ok" or None in s.burn_rates.values()]
    return {
        "seconds_median": statistics.median(seconds),
        "seconds_runs": seconds,
        "statuses_without_full_data": len(missing),
    }


def _wait_until_compacted(url: str, *, timeout_s: float = 600.0) -> float:
    """Seconds until the server has run its first compaction and gone idle.

    Prometheus merges overlapping (backfilled) blocks about a minute after it starts, which
    takes seconds of CPU: timings taken meanwhile would measure the merge.
    """
    started = time.monotonic()

    def metric(name: str) -> float:
        for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
        return 0.0

    while time.monotonic() - started < timeout_s:
        if metric("prometheus_tsdb_compactions_triggered_total") >= 1:
            before = metric("process_cpu_seconds_total")
            time.sleep(2)
            if metric("process_cpu_seconds_total") - before < 0.1:
                return time.monotonic() - started
        else:
            time.sleep(2)
    raise RuntimeError(f"Prometheus at {url} still busy after {timeout_s:.0f} s")


def _last_evaluations(url: str, at: datetime) -> dict[tuple[str, str], datetime]:
    """When each SLO's recording group last ran at or before `at` (groups have own offsets)."""
    query = f"timestamp({promql.error_ratio_metric(21600)})"
    answer = httpx.post(
        f"{url}/api/v1/query", data={"query": query, "time": at.timestamp()}, timeout=60
    ).json()
    return {
        (item["metric"]["srekit_service"], item["metric"]["srekit_slo"]): datetime.fromtimestamp(
            float(item["value"][1]), tz=UTC
        )
        for item in answer["data"]["result"]
    }


def _max_ratio_gap_recorded_vs_raw(
    url: str, slos: list[SLO], recorded: dict[tuple[str, str], EventCounts | None], at: datetime
) -> dict[str, Any]:
    """Largest |recorded − raw| error ratio, raw counters read at each group's last evaluation."""
    evaluations = _last_evaluations(url, at)
    by_instant: dict[datetime, list[SLO]] = {}
    for slo in slos:
        by_instant.setdefault(evaluations[(slo.service, slo.name)], []).append(slo)
    gap, compared, from_recordings = 0.0, 0, 0
    for instant, members in by_instant.items():
        raw = _srekit(
            url,
            members,
            _windows(instant, RECORDED_LABELS),
            rollups=False,
            recordings=False,
            runs=1,
        )["counts"]
        for slo in members:
            for label in RECORDED_LABELS:
                ours, theirs = recorded.get((slo.id, label)), raw[(slo.id, label)]
                if ours is None or theirs is None or theirs.error_ratio is None:
                    raise RuntimeError(f"{slo.id} {label}: no data ({ours} vs {theirs})")
                from_recordings += not ours.counted
                assert ours.error_ratio is not None
                gap = max(gap, abs(ours.error_ratio - theirs.error_ratio))
                compared += 1
    return {
        "max_error_ratio_gap": gap,
        "compared": compared,
        "read_from_recordings": from_recordings,
        "group_evaluation_instants": len(by_instant),
    }


def _slo_generator_python() -> tuple[Path | None, str]:
    """The separate venv's python, installed on first use; or None and why not."""
    python = SLO_GENERATOR_VENV / "bin" / "python"
    check = [str(python), "-c", "import slo_generator.compute, prometheus_http_client"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python, "already installed"
    steps = [
        [sys.executable, "-m", "venv", str(SLO_GENERATOR_VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *SLO_GENERATOR,
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode:
            return None, f"`{' '.join(step)}` failed: {(done.stderr or done.stdout)[-1500:]}"
    return python, "installed"


def _run_slo_generator(
    python: Path, url: str, configs: list[dict[str, Any]], at: datetime, workdir: Path
) -> dict[str, Any]:
    shared = {
        "backends": {"prometheus": {"url": url}},
        "exporters": {},
        "error_budget_policies": {
            "default": {
                "steps": [
                    {
                        "name": "30d",
                        "burn_rate_threshold": 1,
                        "alert": False,
                        "message_alert": "burning",
                        "message_ok": "fine",
                        "window": 2592000,
                    }
                ]
            }
        },
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(shared), encoding="utf-8")
    (workdir / "slos.yaml").write_text(yaml.safe_dump(configs), encoding="utf-8")
    (workdir / "driver.py").write_text(_DRIVER, encoding="utf-8")
    command = [str(python), str(workdir / "driver.py"), str(workdir / "config.yaml")]
    command += [str(workdir / "slos.yaml"), str(at.timestamp())]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"slo-generator failed: {done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    answer["wall_seconds_with_startup"] = wall
    return answer


def _compare_slo_generator(
    server: Backfilled,
    *,
    python: Path | None,
    install: str,
    slos: list[SLO],
    configs: list[dict[str, Any]],
    at: datetime,
) -> tuple[dict[str, Any], dict[tuple[str, str], EventCounts | None]]:
    """slo-generator's figures, and its 30-day counts per (SLO id, "30d")."""
    if python is None:
        return {"error": install}, {}
    workdir = server.server.workdir.parent
    # As for srekit's timings: not while the fresh server runs its first compaction.
    waited = _wait_until_compacted(server.url)
    answer = _run_slo_generator(python, server.url, configs, at, workdir)
    queried_at = datetime.now(UTC)
    invalid = [n for n, r in answer["slos"].items() if not r["valid"]]
    reports = answer["slos"].values()
    figures = {
        "seconds": answer["seconds"],
        "wall_seconds_with_startup": answer["wall_seconds_with_startup"],
        "http_requests": 2 * len(configs),
        "invalid_reports": len(invalid),
        "waited_for_compaction_s": waited,
        "finished_after_data_end_s": (queried_at - at).total_seconds(),
        "queries_started_after_data_end_s": min(r["queried_from"] for r in reports)
        - at.timestamp(),
        "queries_ended_after_data_end_s": max(r["queried_to"] for r in reports) - at.timestamp(),
        # Its reports' `timestamp` is the one it was given (`at`), not when it queried.
        "report_timestamps": sorted({r["timestamp"] for r in reports}),
    }
    counts: dict[tuple[str, str], EventCounts | None] = {}
    for slo in slos:
        report = answer["slos"][slo.id]
        # SLI from its event counts: its own sli_measurement is rounded to 6 decimals.
        good, bad = float(report["good"]), float(report["bad"])
        counts[(slo.id, "30d")] = EventCounts(good=good, total=good + bad)
    figures["raw_vs_slo_generator_at_its_query_instants"] = _raw_at_query_instants(
        server.url, slos, answer, counts
    )
    return figures, counts


def _raw_at_query_instants(
    url: str,
    slos: list[SLO],
    answer: dict[str, Any],
    theirs: dict[tuple[str, str], EventCounts | None],
) -> dict[str, Any]:
    """srekit's raw 30-day SLIs at the instants slo-generator queried, against its SLIs.

    Its Prometheus backend queries at the server's current time, whatever timestamp it is
    given (its reports carry the given one), so the driver notes the wall clock around each
    SLO's `compute()`. srekit evaluates each SLO at the middle of that span, rounded to 0.1 s
    to share queries between SLOs: same server, same instant, same window.
    """
    started = time.perf_counter()
    by_instant: dict[datetime, list[SLO]] = {}
    offset = 0.0
    for slo in slos:
        report = answer["slos"][slo.id]
        span = (report["queried_from"], report["queried_to"])
        instant = round(sum(span) / 2, 1)
        offset = max(offset, *(abs(instant - end) for end in span))
        by_instant.setdefault(datetime.fromtimestamp(instant, tz=UTC), []).append(slo)
    ours: dict[tuple[str, str], EventCounts | None] = {}
    for instant, members in by_instant.items():
        ours.update(
            _srekit(
                url, members, _windows(instant, ["30d"]), rollups=False, recordings=False, runs=1
            )["counts"]
        )
    return {
        "max_sli_gap": _max_sli_gap(ours, theirs),
        "compared": len(ours),
        "distinct_instants": len(by_instant),
        "max_instant_off_query_span_s": offset,
        "seconds": time.perf_counter() - started,
    }


Readings = dict[tuple[str, str], EventCounts | None]


def _max_gap(
    ours: Readings, theirs: Readings, gap: Callable[[EventCounts, EventCounts], float]
) -> float:
    """The largest `gap(ours, theirs)` over every key; a key without data on a side fails."""
    gaps = []
    for key, reading in ours.items():
        other = theirs.get(key)
        if reading is None or other is None or reading.sli is None or other.sli is None:
            raise RuntimeError(f"{key}: no data on one side ({reading} vs {other})")
        gaps.append(gap(reading, other))
    return max(gaps)


def _max_sli_gap(ours: Readings, theirs: Readings) -> float:
    return _max_gap(ours, theirs, lambda a, b: abs((a.sli or 0.0) - (b.sli or 0.0)))


def _max_relative_total_gap(ours: Readings, theirs: Readings) -> float:
    """How far the event totals (the budget's denominators) differ, relative to `theirs`."""
    return _max_gap(ours, theirs, lambda a, b: abs(a.total - b.total) / b.total)


def _last_rollup(url: str, at: datetime) -> datetime:
    answer = httpx.post(
        f"{url}/api/v1/query",
        data={"query": "srekit_slo:total_events:increase1h[2h]", "time": at.timestamp()},
    ).json()
    latest = max(float(v[0]) for series in answer["data"]["result"] for v in series["values"])
    return datetime.fromtimestamp(latest, tz=UTC)


def _time_and_cross_check(
    url: str, slos: list[SLO], now: datetime, theirs: Readings | None
) -> dict[str, Any]:
    """Every srekit timing on the server with rollups and recordings, and the cross-checks."""
    found: dict[str, Any] = {}
    month, status = _windows(now, ["30d"]), _windows(now, list(STATUS_WINDOWS_S))
    runs = {
        "srekit_raw_30d": _srekit(url, slos, month, rollups=False, recordings=False),
        "srekit_rollups_30d": _srekit(url, slos, month, rollups=True, recordings=False),
        "srekit_raw_status_windows": _srekit(url, slos, status, rollups=False, recordings=False),
        "srekit_rollups_status_windows": _srekit(url, slos, status, rollups=True, recordings=False),
        "srekit_recordings_status_windows": _srekit(
            url, slos, status, rollups=True, recordings=True
        ),
        "srekit_hourly_rollups_30d": _srekit(
            url, slos, month, rollups=True, recordings=False, rollup_windows="hourly"
        ),
        "srekit_hourly_recordings_status_windows": _srekit(
            url, slos, status, rollups=True, recordings=True, rollup_windows="hourly"
        ),
    }
    found["srekit_recordings_status_end_to_end"] = _status_end_to_end(url, slos, now, "exact")
    found["srekit_hourly_recordings_status_end_to_end"] = _status_end_to_end(
        url, slos, now, "hourly"
    )
    last = _last_rollup(url, now)
    raw_at_last = _srekit(
        url, slos, _windows(last, ["30d"]), rollups=False, recordings=False, runs=1
    )["counts"]
    for name, run in runs.items():
        found[name] = {k: v for k, v in run.items() if k != "counts"}
    found["recordings_vs_raw_at_evaluation"] = _max_ratio_gap_recorded_vs_raw(
        url, slos, runs["srekit_recordings_status_windows"]["counts"], now
    )
    raw_month = runs["srekit_raw_30d"]["counts"]
    rollup_month = runs["srekit_rollups_30d"]["counts"]
    found["max_sli_gap_rollups_vs_raw"] = _max_sli_gap(rollup_month, raw_month)
    found["max_relative_total_gap_rollups_vs_raw"] = _max_relative_total_gap(
        rollup_month, raw_month
    )
    found["last_rollup_before_at_s"] = (now - last).total_seconds()
    found["max_sli_gap_hourly_rollups_vs_raw_at_last_rollup"] = _max_sli_gap(
        runs["srekit_hourly_rollups_30d"]["counts"], raw_at_last
    )
    if theirs:
        found["max_sli_gap_raw_vs_slo_generator"] = _max_sli_gap(raw_month, theirs)
        found["max_sli_gap_rollups_vs_slo_generator"] = _max_sli_gap(rollup_month, theirs)
    return found


def main() -> dict[str, Any]:
    """Run the benchmark, print the figures, write the JSON."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"slos": SERVICES * 10, "services": SERVICES, "days": 30}
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    services = _services()
    slos, configs = _slos(services)
    python, install = _slo_generator_python()
    figures["slo_generator_install"] = install
    with tempfile.TemporaryDirectory(prefix="srekit-bench-", dir=RESULTS) as tmp:
        workdir = Path(tmp)
        seconds, dataset = _timed(lambda: generate(services, end=now, quiet_head_s=6 * 3600))
        figures["generate_s"] = seconds
        seconds, raw_server = _timed(lambda: serve(dataset, workdir / "raw"))
        figures["backfill_and_start_s"] = seconds
        figures["series"] = len(dataset.series)
        figures["samples"] = len(dataset.series) * dataset.samples
        servers: list[Backfilled] = [raw_server]
        try:
            figures["slo_generator"], theirs = _compare_slo_generator(
                raw_server, python=python, install=install, slos=slos, configs=configs, at=now
            )
            seconds, rollup_server = _timed(
                lambda: serve_with_rollups(raw_server, slos, workdir / "rollups", slos_per_rule=100)
            )
            servers.append(rollup_server)
            figures["rollup_backfill_and_start_s"] = seconds
            seconds, server = _timed(
                lambda: serve_with_recordings(
                    rollup_server,
                    slos,
                    workdir / "recordings",
                    hours=RECORDED_HOURS,
                    slos_per_rule=100,
                    rules_url=raw_server.url,
                )
            )
            servers.append(server)
            figures["recording_backfill_and_start_s"] = seconds
            figures["recorded_hours"] = RECORDED_HOURS
            for idle in (raw_server, rollup_server):
                idle.server.stop()
            url = server.url
            figures["waited_for_compaction_s"] = _wait_until_compacted(url)
            figures |= _time_and_cross_check(url, slos, now, theirs)
        finally:
            for server in servers:
                server.server.stop()
    figures["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (RESULTS / "status_prometheus.json").write_text(
        json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8"
    )
    print(json.dumps(figures, indent=2, default=str))
    return figures


if __name__ == "__main__":
    main()
