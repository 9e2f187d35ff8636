"""Alert intake: how many alerts a second `srekit serve` stores, how fast it answers at a
steady 1,000 alerts/s, and that none answered 2xx is lost when the server is killed (-9) in the
middle of a burst.

16 concurrent senders (asyncio, a keep-alive connection each, one process, on the same 2 cores)
post Alertmanager webhook bodies of 10 alerts each to `POST /api/v1/alertmanager` for
`--duration` seconds: new firing alerts of 200 groups (P1 and P3 by their `severity` label, 20
services), and, one body in three, the resolution of alerts sent before.

Closed loop (the maximum): each sender posts its next body as soon as the last is answered.
Reported: alerts stored a second (10 × bodies answered 200 / elapsed), p50/p99 latency,
incidents opened.

Open loop (the latency at a given load): the senders offer `--rate` alerts a second (1,000:
100 bodies/s, each sender one body every 160 ms, the senders' schedules spread evenly), 200
new groups. Each body has a scheduled send time; a sender whose last body is still unanswered
sends late, and latency is counted from the scheduled time, so a server that falls behind shows
it instead of slowing the senders down. Reported: offered and achieved rates, p50/p99/max.

Kill: the same senders post firing alerts of 50 new groups; after `--kill-after` seconds the
server is killed with SIGKILL, started again, and the senders go on. Afterwards the store is read
directly: every alert whose body was answered 200 must be stored, and each group must have
exactly one incident (no duplicate from a retried or replayed body).

    python -m benchmarks.bench_intake [--duration 30] [--rate 1000] [--database sqlite|postgres]

Targets on SQLite: ≥ 1,000 alerts/s closed loop; p99 ≤ 50 ms open loop at 1,000 alerts/s; no
acknowledged alert lost, no incident duplicated, on both. Writes results/intake.json.
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
from urllib.parse import urlsplit

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


class _Connection:
    """One keep-alive HTTP/1.1 connection to the server, enough for the senders' requests.

    httpx cost the senders ~3.5 ms of CPU a request, on the 2 cores the server they measure
    runs on; this costs a fraction of that. Any failure closes the connection (the next
    request opens another) and is raised.
    """

    def __init__(self, base: str) -> None:
        address = urlsplit(base)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> int:
        """The answer's status; its body is read and dropped."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        try:
            async with asyncio.timeout(30):
                if self.streams is None:
                    self.streams = await asyncio.open_connection(self.host, self.port)
                reader, writer = self.streams
                writer.write("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionResetError("the server closed the connection")
                length, close = 0, False
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection":
                        close = value.strip().lower() == "close"
                await reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return int(status_line.split()[1])

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


class _Senders:
    """The senders' shared state: what was sent and what the server answered."""

    def __init__(
        self, base: str, token: str, *, groups: range, resolve_share: float, prefix: str = ""
    ) -> None:
        self.base, self.token = base, token
        self.prefix = prefix  # of fingerprints, so the runs on one store send distinct alerts
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
            _alert(f"{self.prefix}{serial:08x}{index:02x}", group, started, None)
            for index in range(ALERTS_PER_BODY)
        ]
        if self.resolve_share:
            self.firing.extend((a["fingerprint"], group, started) for a in alerts)
        return _body(alerts, group), [(a["fingerprint"], "firing") for a in alerts]

    async def send(self, connection: _Connection, until: float) -> None:
        """Closed loop: the next body as soon as the last is answered."""
        while time.monotonic() < until:
            if not await self.post(connection, began=time.monotonic()):
                await asyncio.sleep(0.05)

    async def send_on_schedule(
        self, connection: _Connection, *, first: float, period_s: float, until: float
    ) -> None:
        """Open loop: a body at `first`, `first + period_s`, … (monotonic clock), late only
        while the previous one is unanswered; latency from the scheduled time."""
        scheduled = first
        while scheduled < until:
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.post(connection, began=scheduled)
            scheduled += period_s

    async def post(self, connection: _Connection, *, began: float) -> bool:
        """Send the next body; latency is counted from `began`. False on a transport error."""
        body, sent = self.next_body()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            status = await connection.request(
                "POST", "/api/v1/alertmanager", body=json.dumps(body).encode(), headers=headers
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
            self.outcomes[type(error).__name__] += 1
            return False
        self.outcomes[str(status)] += 1
        if status == 200:
            self.latencies.append(time.monotonic() - began)
            for fingerprint, state in sent:
                if self.acked.get(fingerprint) != "resolved":
                    self.acked[fingerprint] = state
        return True


async def _connected(senders: _Senders) -> list[_Connection]:
    """A connection per sender, opened before the load starts: connecting is not the
    intake's latency."""
    connections = [_Connection(senders.base) for _ in range(SENDERS)]
    await asyncio.gather(*(connection.request("GET", "/healthz") for connection in connections))
    return connections


async def _load(senders: _Senders, seconds: float) -> float:
    connections = await _connected(senders)
    until = time.monotonic() + seconds
    began = time.perf_counter()
    await asyncio.gather(*(senders.send(connection, until) for connection in connections))
    elapsed = time.perf_counter() - began
    for connection in connections:
        connection.close()
    return elapsed


async def _scheduled_load(senders: _Senders, seconds: float, *, bodies_per_s: float) -> float:
    period_s = SENDERS / bodies_per_s  # each sender's interval between two bodies
    connections = await _connected(senders)
    start = time.monotonic() + 0.1
    await asyncio.gather(
        *(
            senders.send_on_schedule(
                connection,
                first=start + period_s * index / SENDERS,
                period_s=period_s,
                until=start + seconds,
            )
            for index, connection in enumerate(connections)
        )
    )
    for connection in connections:
        connection.close()
    return time.monotonic() - start


def _stored_alerts(url: str) -> dict[str, str]:
    return dict(_store_rows(url, "SELECT fingerprint, status FROM alerts"))


def _incidents(url: str) -> int:
    (count,) = _store_rows(url, "SELECT count(*) FROM incidents")[0]
    return int(count)


def _closed_loop(server: _Server, token: str, seconds: float, url: str) -> dict[str, Any]:
    senders = _Senders(server.base, token, groups=range(200), resolve_share=1 / 3, prefix="c")
    before = _incidents(url)
    elapsed = asyncio.run(_load(senders, seconds))
    ok = senders.outcomes["200"]
    return {
        "seconds": round(elapsed, 1),
        "bodies_answered_200": ok,
        "alerts_per_s": round(ok * ALERTS_PER_BODY / elapsed, 1),
        "p50_ms": round(_percentile(senders.latencies, 0.5) * 1000, 1),
        "p99_ms": round(_percentile(senders.latencies, 0.99) * 1000, 1),
        "outcomes": dict(senders.outcomes),
        "incidents_opened": _incidents(url) - before,
    }


def _open_loop(
    server: _Server, token: str, seconds: float, url: str, *, alerts_per_s: float
) -> dict[str, Any]:
    senders = _Senders(
        server.base, token, groups=range(1_000, 1_200), resolve_share=1 / 3, prefix="o"
    )
    before = _incidents(url)
    elapsed = asyncio.run(
        _scheduled_load(senders, seconds, bodies_per_s=alerts_per_s / ALERTS_PER_BODY)
    )
    ok = senders.outcomes["200"]
    return {
        "seconds": round(elapsed, 1),
        "offered_alerts_per_s": alerts_per_s,
        "bodies_answered_200": ok,
        "alerts_per_s": round(ok * ALERTS_PER_BODY / elapsed, 1),
        "p50_ms": round(_percentile(senders.latencies, 0.5) * 1000, 1),
        "p99_ms": round(_percentile(senders.latencies, 0.99) * 1000, 1),
        "max_ms": round(max(senders.latencies, default=0.0) * 1000, 1),
        "outcomes": dict(senders.outcomes),
        "incidents_opened": _incidents(url) - before,
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
    senders = _Senders(server.base, token, groups=groups, resolve_share=0.0, prefix="k")
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


def _run(database: str, *, duration_s: float, alerts_per_s: float) -> dict[str, Any]:
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
        figures: dict[str, Any] = {
            "closed_loop": _closed_loop(server, token, duration_s, url),
            "open_loop": _open_loop(server, token, duration_s, url, alerts_per_s=alerts_per_s),
        }
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
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of each load")
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="alerts/s the open loop offers (1000)"
    )
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
        figures[database] = _run(database, duration_s=options.duration, alerts_per_s=options.rate)
        print(database, json.dumps(figures[database], indent=2), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "intake.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
