"""Alert intake: how many alerts a second `srekit serve` stores, and that none answered 2xx is
lost when the server is killed (-9) in the middle of a burst.

Sustained: 16 concurrent senders (asyncio + httpx, one process, on the same 2 cores) post
Alertmanager webhook bodies of 10 alerts each to `POST /api/v1/alertmanager` for `--duration`
seconds: new firing alerts of 200 groups (P1 and P3 by their `severity` label, 20 services),
and, one body in three, the resolution of alerts sent before. Reported: alerts stored a second
(10 × bodies answered 200 / elapsed), p50/p99 latency, incidents opened.

Kill: the same senders post firing alerts of 50 new groups; after `--kill-after` seconds the
server is killed with SIGKILL, started again, and the senders go on. Afterwards the store is read
directly: every alert whose body was answered 200 must be stored, and each group must have
exactly one incident (no duplicate from a retried or replayed body).

    python -m benchmarks.bench_intake [--duration 30] [--database sqlite|postgres]

Targets: ≥ 1,000 alerts/s, p99 ≤ 50 ms on SQLite; no acknowledged alert lost, no incident
duplicated, on both. Writes results/intake.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_soak import RESULTS, _percentile, _Server, _srekit, _store_rows

SENDERS = 16
ALERTS_PER_BODY = 10
_ZERO = "0001-01-01T00:00:00Z"


def _instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _alert(
    fingerprint: str, group: int, started: datetime, ended: datetime | None
) -> dict[str, Any]:
    return {
        "status": "firing" if ended is None else "resolved",
        "labels": {
            "alertname": f"Group{group}ErrorBudgetBurn",
            "severity": "page" if group % 2 else "ticket",
            "service": f"svc-{group % 20}",
            "instance": fingerprint,
        },
        "annotations": {"summary": f"group {group} is burning its budget"},
        "startsAt": _instant(started),
        "endsAt": _ZERO if ended is None else _instant(ended),
        "generatorURL": "http://prometheus.bench/graph",
        "fingerprint": fingerprint,
    }


def _body(alerts: list[dict[str, Any]], group: int) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Group{group}ErrorBudgetBurn"}}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "srekit",
        "groupLabels": {"alertname": f"Group{group}ErrorBudgetBurn"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.bench",
        "alerts": alerts,
    }


class _Senders:
    """The senders' shared state: what was sent and what the server answered."""

    def __init__(self, base: str, token: str, *, groups: range, resolve_share: float) -> None:
        self.base, self.token = base, token
        self.groups = groups
        self.resolve_share = resolve_share
        self.counter = itertools.count()
        self.firing: list[tuple[str, int, datetime]] = []
        self.acked: dict[str, str] = {}  # fingerprint -> the status a 200 acknowledged
        self.latencies: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.started = datetime.now(UTC) - timedelta(minutes=5)
        self.rng = random.Random(1)

    def next_body(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if self.firing and self.rng.random() < self.resolve_share:
            chosen = [
                self.firing.pop(self.rng.randrange(len(self.firing)))
                for _ in range(min(ALERTS_PER_BODY, len(self.firing)))
            ]
            group = chosen[0][1]
            alerts = [
                _alert(fp, g, started, started + timedelta(seconds=30)) for fp, g, started in chosen
            ]
            return _body(alerts, group), [(a["fingerprint"], "resolved") for a in alerts]
        serial = next(self.counter)
        group = self.groups[serial % len(self.groups)]
        started = self.started + timedelta(milliseconds=serial)
        alerts = [
            _alert(f"{serial:08x}{index:02x}", group, started, None)
            for index in range(ALERTS_PER_BODY)
        ]
        if self.resolve_share:
            self.firing.extend((a["fingerprint"], group, started) for a in alerts)
        return _body(alerts, group), [(a["fingerprint"], "firing") for a in alerts]

    async def send(self, client: httpx.AsyncClient, until: float) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while time.monotonic() < until:
            body, sent = self.next_body()
            began = time.perf_counter()
            try:
                answer = await client.post("/api/v1/alertmanager", json=body, headers=headers)
            except httpx.TransportError as error:
                self.outcomes[type(error).__name__] += 1
                await asyncio.sleep(0.05)
                continue
            self.outcomes[str(answer.status_code)] += 1
            if answer.status_code == 200:
                self.latencies.append(time.perf_counter() - began)
                for fingerprint, status in sent:
                    if self.acked.get(fingerprint) != "resolved":
                        self.acked[fingerprint] = status


async def _load(senders: _Senders, seconds: float) -> float:
    until = time.monotonic() + seconds
    began = time.perf_counter()
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(base_url=senders.base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(senders.send(client, until) for _ in range(SENDERS)))
    return time.perf_counter() - began


def _stored_alerts(url: str) -> dict[str, str]:
    return dict(_store_rows(url, "SELECT fingerprint, status FROM alerts"))


def _sustained(server: _Server, token: str, seconds: float, url: str) -> dict[str, Any]:
    senders = _Senders(server.base, token, groups=range(200), resolve_share=1 / 3)
    elapsed = asyncio.run(_load(senders, seconds))
    ok = senders.outcomes["200"]
    (incidents,) = _store_rows(url, "SELECT count(*) FROM incidents")[0]
    return {
        "seconds": round(elapsed, 1),
        "bodies_answered_200": ok,
        "alerts_per_s": round(ok * ALERTS_PER_BODY / elapsed, 1),
        "p50_ms": round(_percentile(senders.latencies, 0.5) * 1000, 1),
        "p99_ms": round(_percentile(senders.latencies, 0.99) * 1000, 1),
        "outcomes": dict(senders.outcomes),
        "incidents_opened": int(incidents),
    }


async def _killed_midway(
    server: _Server, senders: _Senders, seconds: float, kill_after: float
) -> None:
    load = asyncio.create_task(_load(senders, seconds))
    await asyncio.sleep(kill_after)
    server.kill()
    server.start()
    await server.ready()
    await load


def _kill(server: _Server, token: str, seconds: float, url: str) -> dict[str, Any]:
    groups = range(10_000, 10_050)
    senders = _Senders(server.base, token, groups=groups, resolve_share=0.0)
    asyncio.run(_killed_midway(server, senders, seconds, kill_after=seconds / 2))
    stored = _stored_alerts(url)
    lost = [fp for fp in senders.acked if fp not in stored]
    titles = {f"group {group} is burning its budget" for group in groups}
    per_group = Counter(
        title for (title,) in _store_rows(url, "SELECT title FROM incidents") if title in titles
    )
    duplicated = {key: count for key, count in per_group.items() if count > 1}
    return {
        "seconds": seconds,
        "alerts_answered_200": len(senders.acked),
        "alerts_stored": len(stored),
        "acknowledged_alerts_lost": len(lost),
        "groups_with_incidents": len(per_group),
        "groups_sent": len(groups),
        "duplicated_incidents": duplicated,
        "outcomes": dict(senders.outcomes),
    }


def _run(database: str, *, duration_s: float) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"srekit-bench-intake-{database}-"))
    env = {**os.environ, "SREKIT_HOME": str(home), "SREKIT_ACTOR": "setup"}
    postgres = None
    url = f"sqlite:///{home / 'srekit.db'}"
    if database == "postgres":
        from tests.postgres_fixture import PostgresServer

        postgres = PostgresServer.start()
        url = postgres.create_database("intake")
        env["SREKIT_DATABASE_URL"] = url
    server = _Server(env=env, log=home / "serve.log")
    try:
        _srekit("db", "upgrade", env=env)
        created = _srekit(
            "token", "create", "--role", "ingest", "--name", "am", "--format", "json", env=env
        )
        token = json.loads(created)["token"]
        server.start()
        asyncio.run(server.ready())
        figures = {"sustained": _sustained(server, token, duration_s, url)}
        figures["kill"] = _kill(server, token, max(10.0, duration_s / 2), url)
        server.stop()
        figures["server_log_tracebacks"] = server.log.read_text(errors="replace").count("Traceback")
    finally:
        server.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(home, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sustained load")
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), action="append", help="default: both"
    )
    options = parser.parse_args(argv)
    figures: dict[str, Any] = {
        "senders": SENDERS,
        "alerts_per_body": ALERTS_PER_BODY,
        "server": "srekit serve: one uvicorn process; the senders in one process, same 2 cores",
    }
    for database in options.database or ("sqlite", "postgres"):
        figures[database] = _run(database, duration_s=options.duration)
        print(database, json.dumps(figures[database], indent=2), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "intake.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
