"""A soak: 200 clients at once against `srekit serve` for minutes, killed (-9) twice midway.

Each client (asyncio + httpx, one process) sends, in random turn, reads (statuses, an SLO's
status, a service, a service's SLOs, the audit log), gate calls (a new version each: a
deployment to record) and writes (create a team, create a service, a new version of one of 20
SLOs). The server evaluates its SLOs (on a few events) every 5 s. At a third and at two thirds
of the run the server is killed with SIGKILL and started again on the same port and store.
Afterwards the store is read directly: every write answered 2xx must be there, with exactly one
audit entry.

    python -m benchmarks.bench_soak [--duration 300] [--clients 200] [--database sqlite]

Both SQLite and PostgreSQL by default (PostgreSQL started as tests/postgres_fixture.py does).
Prints and writes results/soak.json: requests, 2xx, errors by kind (contention 503, other 5xx,
connection errors during the kills and outside them), lost acknowledged writes, audit entries
against acknowledged writes, p50/p99 latency per kind, server RSS, database size.
Targets: no contention 503, no 5xx, no lost acknowledged write, one audit entry per
acknowledged write, RSS bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.procstat import cpu_s, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SERVICES = [f"svc-{index}" for index in range(10)]
SLOS = [(service, name) for service in SERVICES for name in ("availability", "errors")]
KINDS = {  # kind: weight
    "status": 12,
    "slo_status": 10,
    "service": 8,
    "slos": 8,
    "audit": 4,
    "gate": 30,
    "team_write": 8,
    "service_write": 8,
    "slo_write": 12,
}
WRITES = ("team_write", "service_write", "slo_write")
_QUIET = ("--log-level", "warning")
KILL_GRACE_S = 2.0  # connection errors this long after a restart still count as the kill's


def _rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else 0.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _spec(objective: float) -> dict[str, Any]:
    return {
        "objective": objective,
        "window": {"kind": "rolling", "duration_s": 86400},
        "indicator": {"kind": "events_ratio", "good": "status < 500", "stream": "shop"},
    }


@dataclass
class _Server:
    """`srekit serve` as a child process, restartable on the same port and store."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        srekit = str(Path(sys.executable).with_name("srekit"))
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [srekit, "serve", "--port", str(self.port), "--interval", "5", *_QUIET],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    async def ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as client:
            while True:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"srekit serve exited: see {self.log}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"srekit serve not ready after {timeout_s} s")
                await asyncio.sleep(0.1)

    def metrics(self) -> dict[str, float]:
        text = httpx.get(f"{self.base}/metrics", timeout=10).text
        rounds = re.findall(
            r'^srekit_evaluation_rounds_total\{outcome="(\w+)"\} (\S+)$', text, re.MULTILINE
        )
        return {outcome: float(value) for outcome, value in rounds}

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class _Outcome:
    kind: str
    outcome: int | str
    latency_s: float
    at: float
    key: str = ""  # what a write wrote: team/NAME, service/NAME, slo/SVC/NAME@VERSION
    detail: str = ""


class _Load:
    """The clients, and everything they were answered."""

    def __init__(self, base: str, tokens: dict[str, str], *, clients: int) -> None:
        self.base = base
        self.editor = {"Authorization": f"Bearer {tokens['editor']}"}
        self.deploy = {"Authorization": f"Bearer {tokens['deploy']}"}
        self.clients = clients
        self.outcomes: list[_Outcome] = []
        self.writes = 0
        self.end = 0.0

    async def run(self, duration_s: float) -> None:
        self.end = time.monotonic() + duration_s
        limits = httpx.Limits(max_connections=self.clients, max_keepalive_connections=self.clients)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as client:
            await asyncio.gather(*(self._client(client, n) for n in range(self.clients)))

    async def _client(self, client: httpx.AsyncClient, number: int) -> None:
        rng = random.Random(number)
        kinds, weights = list(KINDS), list(KINDS.values())
        index = 0
        while time.monotonic() < self.end:
            kind = rng.choices(kinds, weights)[0]
            name = f"c{number}-{index}"
            index += 1
            service, slo = rng.choice(SLOS)
            started = time.perf_counter()
            key = ""
            try:
                if kind == "team_write":
                    key = f"team/{name}"
                    answer = await client.put(f"/api/v1/teams/{name}", headers=self.editor)
                elif kind == "service_write":
                    key = f"service/{name}"
                    answer = await client.put(f"/api/v1/services/{name}", headers=self.editor)
                elif kind == "slo_write":
                    self.writes += 1  # every PUT a new objective: a new version
                    answer = await client.put(
                        f"/api/v1/slos/{service}/{slo}",
                        json={"spec": _spec(0.9 + self.writes * 1e-7)},
                        headers=self.editor,
                    )
                    if answer.is_success:
                        key = f"slo/{service}/{slo}@{answer.json()['version']}"
                elif kind == "gate":
                    answer = await client.get(
                        "/api/v1/gate",
                        params={
                            "service": service,
                            "change_type": "feature",
                            "version": f"v-{name}",
                        },
                        headers=self.deploy,
                    )
                else:
                    path = {
                        "status": "/api/v1/status",
                        "slo_status": f"/api/v1/slos/{service}/{slo}/status",
                        "service": f"/api/v1/services/{service}",
                        "slos": f"/api/v1/slos?service={service}",
                        "audit": "/api/v1/audit?limit=20",
                    }[kind]
                    answer = await client.get(path, headers=self.editor)
                outcome: int | str = answer.status_code
                detail = answer.text[:200] if answer.status_code >= 500 else ""
            except httpx.HTTPError as error:
                outcome, detail = type(error).__name__, str(error)[:200]
                await asyncio.sleep(0.1)  # the server is down: do not spin
            self.outcomes.append(
                _Outcome(
                    kind=kind,
                    outcome=outcome,
                    latency_s=time.perf_counter() - started,
                    at=time.monotonic(),
                    key=key,
                    detail=detail,
                )
            )


def _store_rows(url: str, query: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return connection.execute(query).fetchall()
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(query).fetchall()


def _stored(url: str) -> tuple[set[str], Counter[str], int]:
    """What the store holds: written keys, audit entries per key (by the editor), deployments."""
    stored = {f"team/{name}" for (name,) in _store_rows(url, "SELECT name FROM teams")}
    stored |= {f"service/{name}" for (name,) in _store_rows(url, "SELECT name FROM services")}
    stored |= {
        f"slo/{service}/{name}@{version}"
        for service, name, version in _store_rows(
            url,
            "SELECT services.name, slos.name, slo_versions.version FROM slo_versions"
            " JOIN slos ON slos.id = slo_versions.slo_id"
            " JOIN services ON services.id = slos.service_id",
        )
    }
    audited: Counter[str] = Counter()
    for kind, entity, after in _store_rows(
        url, "SELECT entity_kind, entity_id, after_json FROM audit_log WHERE actor = 'editor'"
    ):
        suffix = f"@{json.loads(after)['version']}" if kind == "slo" else ""
        audited[f"{kind}/{entity}{suffix}"] += 1
    (deployments,) = _store_rows(url, "SELECT count(*) FROM deployments")[0]
    return stored, audited, int(deployments)


def _database_mb(url: str) -> float:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return round(sum(f.stat().st_size for f in files if f.exists()) / 2**20, 2)
    (size,) = _store_rows(url, "SELECT pg_database_size(current_database())")[0]
    return round(int(size) / 2**20, 2)


def _srekit(*args: str, env: dict[str, str]) -> str:
    srekit = str(Path(sys.executable).with_name("srekit"))
    return subprocess.run(
        [srekit, *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def _prepare(home: Path, env: dict[str, str], url: str | None) -> dict[str, str]:
    """Events, 20 SLOs on them, and an editor and a deploy token."""
    if url is not None:
        _srekit("db", "upgrade", env=env)
    now = datetime.now(UTC)
    events = home / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": (now - timedelta(seconds=30 * index)).isoformat(),
                    "status": 500 if index % 40 == 0 else 200,
                    "duration_s": 0.05,
                    "method": "GET",
                    "path": "/",
                }
            )
            + "\n"
            for index in range(2000)
        )
    )
    _srekit("events", "ingest", str(events), "--service", "shop", "--format", "jsonl", env=env)
    specs = home / "specs.yaml"
    specs.write_text(
        "---\n".join(
            f"apiVersion: srekit/v1\nkind: SLO\nservice: {service}\nname: {name}\n"
            "objective: 99%\nwindow: 1d\nindicator:\n  events:\n    good: status < 500\n"
            "    stream: shop\n"
            for service, name in SLOS
        )
    )
    _srekit("slo", "apply", "-f", str(specs), env=env)
    return {
        role: json.loads(
            _srekit("token", "create", "--role", role, "--name", role, "--format", "json", env=env)
        )["token"]
        for role in ("editor", "deploy")
    }


def _life(server: _Server) -> dict[str, Any]:
    """What a server process used and did, read just before it is killed or stopped."""
    assert server.process is not None
    pid = server.process.pid
    return {"rss_mb": _rss_mb(pid), "cpu_s": cpu_s(pid), "rounds": server.metrics()}


async def _soak(server: _Server, load: _Load, duration_s: float) -> dict[str, Any]:
    """Run the load; kill and restart the server at a third and two thirds of it."""
    assert server.process is not None
    lives: list[dict[str, Any]] = []
    kills: list[tuple[float, float]] = []
    client_cpu = time.process_time()
    runner = asyncio.create_task(load.run(duration_s))
    started = time.monotonic()
    samples: list[tuple[float, float]] = []

    async def sample_rss() -> None:
        """RSS every 15 s, so growth within a server life shows (and whether it levels off)."""
        while not runner.done():
            process = server.process
            if process is not None and process.poll() is None:
                with contextlib.suppress(OSError):  # killed between the check and the read
                    samples.append((round(time.monotonic() - started), _rss_mb(process.pid)))
            await asyncio.sleep(15)

    sampler = asyncio.create_task(sample_rss())
    await asyncio.sleep(min(5.0, duration_s / 10))
    rss_start = _rss_mb(server.process.pid)
    for fraction in (1 / 3, 2 / 3):
        await asyncio.sleep(max(0.0, load.end - duration_s * (1 - fraction) - time.monotonic()))
        assert server.process is not None
        lives.append(_life(server))
        killed = time.monotonic()
        server.kill()
        server.start()
        await server.ready()
        kills.append((killed, time.monotonic()))
    await runner
    await sampler
    lives.append(_life(server))
    return {
        "rss_start_mb": rss_start,
        "rss_samples": samples,
        "lives": lives,
        "kills": kills,
        "client_cpu_start_s": client_cpu,
    }


def _report(load: _Load, soak: dict[str, Any], url: str, *, duration_s: float) -> dict[str, Any]:
    kills: list[tuple[float, float]] = soak.pop("kills")
    outcomes = load.outcomes
    errors: Counter[str] = Counter()
    latencies: dict[str, list[float]] = defaultdict(list)
    for item in outcomes:
        if isinstance(item.outcome, int) and item.outcome < 400:
            latencies[item.kind].append(item.latency_s)
        elif isinstance(item.outcome, str):
            during = any(start <= item.at <= end + KILL_GRACE_S for start, end in kills)
            if during:
                errors["connection_during_kills"] += 1
            else:  # should not happen: say what it was
                errors[f"connection_outside_kills: {item.kind} {item.outcome}"] += 1
        elif item.outcome == 503 and ("busy" in item.detail or "locked" in item.detail):
            errors["contention_503"] += 1
        else:
            errors[f"http_{item.outcome}: {item.kind} {item.detail[:80]}".rstrip()] += 1
    acknowledged = [
        item.key
        for item in outcomes
        if item.kind in WRITES and isinstance(item.outcome, int) and item.outcome < 300
    ]
    stored, audited, deployments = _stored(url)
    acked = set(acknowledged)
    gate_ok = sum(1 for i in outcomes if i.kind == "gate" and i.outcome == 200)
    rounds = [life["rounds"] for life in soak["lives"]]
    return {
        "requests": len(outcomes),
        "requests_per_s": round(len(outcomes) / duration_s, 1),
        "2xx": sum(1 for i in outcomes if isinstance(i.outcome, int) and i.outcome < 300),
        "errors": dict(sorted(errors.items())),
        "five_xx": sum(1 for i in outcomes if isinstance(i.outcome, int) and i.outcome >= 500),
        "acknowledged_writes": len(acknowledged),
        "lost_acknowledged_writes": len(acked - stored),
        "acknowledged_writes_with_one_audit_entry": sum(1 for k in acked if audited[k] == 1),
        "audit_entries": sum(audited.values()),
        # committed, but the answer was lost when the server was killed
        "audit_entries_unacknowledged": sum(n for k, n in audited.items() if k not in acked),
        "gate_answers_200": gate_ok,
        # the recorder writes decisions a batch at a time: a kill -9 loses the pending batch
        "deployments_recorded": deployments,
        # teams, services and SLO versions stored: the data the server's memory grows with
        "configuration_entities_stored": len(stored),
        "evaluation_rounds": {
            outcome: sum(r.get(outcome, 0) for r in rounds) for outcome in ("ok", "failed")
        },
        "latency_ms": {
            kind: {
                "n": len(values),
                "p50": round(_percentile(values, 0.5) * 1000, 1),
                "p99": round(_percentile(values, 0.99) * 1000, 1),
            }
            for kind, values in sorted(latencies.items())
        },
        "server_rss_mb": {
            "first_after_warmup": soak["rss_start_mb"],
            "at_each_kill_and_end": [life["rss_mb"] for life in soak["lives"]],
            "every_15_s": soak["rss_samples"],
        },
        "database_mb": _database_mb(url),
        "server_cpu_s": round(sum(life["cpu_s"] for life in soak["lives"]), 1),
        "client_cpu_s": round(time.process_time() - soak["client_cpu_start_s"], 1),
    }


def _run(database: str, *, duration_s: float, clients: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"srekit-bench-soak-{database}-"))
    env = {
        **os.environ,
        "SREKIT_HOME": str(home),
        "SREKIT_ACTOR": "setup",
        "SREKIT_METRICS_PUBLIC": "true",
    }
    postgres = None
    url = f"sqlite:///{home / 'srekit.db'}"
    if database == "postgres":
        from tests.postgres_fixture import PostgresServer

        postgres = PostgresServer.start()
        url = postgres.create_database("soak")
        env["SREKIT_DATABASE_URL"] = url
    server = _Server(env=env, log=home / "serve.log")
    try:
        tokens = _prepare(home, env, url if postgres else None)
        server.start()
        asyncio.run(server.ready())
        load = _Load(server.base, tokens, clients=clients)
        soak = asyncio.run(_soak(server, load, duration_s))
        server.stop()
        figures = _report(load, soak, url, duration_s=duration_s)
        logged = server.log.read_text(errors="replace")
        figures["server_log_tracebacks"] = logged.count("Traceback")
    finally:
        server.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(home, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds per database")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), action="append", help="default: both"
    )
    options = parser.parse_args(argv)
    figures: dict[str, Any] = {
        "duration_s": options.duration,
        "clients": options.clients,
        "server": "srekit serve: one uvicorn process, evaluating every 5 s; kill -9 twice",
        "load_generator": "asyncio + httpx in one process, on the same 2 cores",
    }
    for database in options.database or ("sqlite", "postgres"):
        figures[database] = _run(database, duration_s=options.duration, clients=options.clients)
        print(database, json.dumps(figures[database], indent=2), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
