"""Load generator benchmark: the highest rate `srekit load run`'s generator holds with its p99
intact, beside wrk, autocannon and Locust when they are installed, against one minimal local
HTTP server.

"p99 intact": the open model's achieved rate within 2 % of the asked one, no dropped
iterations or errors, and the generator's own lateness small: p99 of `http_req_duration`
(from the intended send) at most 5 ms above p99 of `http_req_service_time` (from the actual
send). The server is a small asyncio server in a process of its own (two cores: it takes one,
the generator the other, with `--workers`). Runs are short (`--seconds`, ≤ 10). wrk comes from
Debian (`apt-get install wrk`), Locust from benchmarks/requirements-load.txt in a venv of its
own, named by `--locust-python`, autocannon from benchmarks/package.json
(`npm ci --prefix benchmarks`). Each tool's own CPU is read from the kernel's accounting of
the benchmark's child processes (getrusage) around its run. `--repeat N` runs the whole
comparison N times and reports each figure's range, with the load average before each round:
the machine is shared, and its other work moves every figure.

    .venv/bin/python -m benchmarks.bench_load [--seconds 4] [--workers 1] [--repeat 3] \
        [--locust-python /path/to/venv/bin/python]

Targets: >= 2x Locust's rate, >= 25 % of wrk's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.procstat import cpu_s, free_port
from srekit.core.load import LoadPlan, LoadRequest, OpenModel, Stage
from srekit.flows.load import run_load_test

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
AUTOCANNON = HERE / "node_modules" / ".bin" / "autocannon"
#: the closed-loop tools' connections (wrk, autocannon) and users (Locust)
CONNECTIONS = 32
RATES = (1_000, 2_000, 4_000, 8_000, 12_000, 16_000, 20_000, 24_000, 28_000, 32_000, 40_000, 48_000)
#: the generator's own p99 lateness allowed: on a shared 2-core machine a woken process waits
#: a few ms for a core, whoever sends
MAX_LATENESS_MS = 5.0
_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class _Answer(asyncio.Protocol):
    """Answers each request (headers only, no body) with 200 `ok`, keeping the connection."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")
        if count:
            self.buffer = self.buffer[self.buffer.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(_RESPONSE * count)


def _serve(port: int) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Answer, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _srekit(url: str, rate: int, seconds: float, workers: int, server_pid: int) -> dict[str, Any]:
    plan = LoadPlan(
        name="bench",
        target=url,
        requests=(LoadRequest(name="home", method="GET", path="/"),),
        journeys=(),
        model=OpenModel(rate, (Stage(seconds, rate),)),
        warmup_s=1.0,
        timeout_s=5.0,
        thresholds=(),
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_s(server_pid)
    started = time.monotonic()
    report = run_load_test(plan, workers=workers)
    wall = time.monotonic() - started
    server_cpu = cpu_s(server_pid) - server_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    duration = report.summaries["http_req_duration"]
    service = report.summaries["http_req_service_time"]
    lateness = duration.percentiles.get(99.0, 0) - service.percentiles.get(99.0, 0)
    achieved = report.achieved_rate or 0.0
    errors = sum(n for outcome, n in report.state.measured.outcomes.items() if outcome != "ok")
    dropped = report.summaries["dropped_iterations"].count
    held = abs(achieved - rate) <= 0.02 * rate and errors == 0 and dropped == 0
    intact = held and lateness <= MAX_LATENESS_MS
    return {
        "asked": rate,
        "achieved": round(achieved, 1),
        "p99_ms": duration.percentiles.get(99.0),
        "p99_service_ms": service.percentiles.get(99.0),
        "lateness_p99_ms": round(lateness, 3),
        "errors": errors,
        "dropped": dropped,
        "worker_cpu_s": round(cpu, 2),
        "worker_cpu_per_1k_req_ms": round(cpu * 1000 / max(duration.count, 1) * 1000, 1),
        "wall_s": round(wall, 2),
        # the server's share of a core over the run: what the generator's cores leave it
        "server_cpu_share": round(server_cpu / wall, 2),
        "held": held,
        "intact": intact,
    }


def _children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed_run(
    command: list[str], timeout_s: float
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """The finished command, its wall time and the CPU it and its children used (s)."""
    cpu_before = _children_cpu_s()
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout_s)
    return done, time.monotonic() - started, _children_cpu_s() - cpu_before


def _ms_of(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(url: str, seconds: float) -> dict[str, Any] | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    done, wall, cpu = _timed_run(
        [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--latency", url + "/"],
        seconds + 30,
    )
    found = re.search(r"Requests/sec:\s+([0-9.]+)", done.stdout)
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", done.stdout)
    return {
        "rate": float(found.group(1)) if found else None,
        "p99_ms": _ms_of(p99.group(1), p99.group(2)) if p99 else None,
        "cpu_s": round(cpu, 2),
        "cpu_share": round(cpu / wall, 2),
        "closed_loop": f"1 thread, {CONNECTIONS} connections",
    }


def _autocannon(url: str, seconds: float) -> dict[str, Any] | None:
    if not AUTOCANNON.exists():
        return None
    done, wall, cpu = _timed_run(
        [str(AUTOCANNON), "-c", str(CONNECTIONS), "-d", str(int(seconds)), "--json", url + "/"],
        seconds + 60,
    )
    try:
        figures = json.loads(done.stdout)
    except json.JSONDecodeError:
        return None
    return {
        "rate": round(figures["requests"]["total"] / figures["duration"], 1),
        "p99_ms": figures["latency"]["p99"],  # autocannon counts whole milliseconds
        "errors": figures["errors"] + figures["timeouts"] + figures["non2xx"],
        "cpu_s": round(cpu, 2),
        "cpu_share": round(cpu / wall, 2),
        "closed_loop": f"{CONNECTIONS} connections, one request at a time each",
    }


_LOCUSTFILE = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

class Home(FastHttpUser):
    wait_time = constant(0)

    @task
    def home(self):
        self.client.get("/")
"""


def _locust(python: str | None, url: str, seconds: float) -> dict[str, Any] | None:
    if python is None or not Path(python).exists():
        return None
    with tempfile.TemporaryDirectory() as scratch:
        locustfile = Path(scratch) / "locustfile.py"
        locustfile.write_text(_LOCUSTFILE)
        prefix = Path(scratch) / "stats"
        users = str(CONNECTIONS)
        _, wall, cpu = _timed_run(
            [
                python, "-m", "locust", "-f", str(locustfile), "--headless", "-u", users,
                "-r", users, "-t", f"{int(seconds)}s", "--host", url, "--csv", str(prefix),
                "--only-summary",
            ],
            seconds + 60,
        )  # fmt: skip
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            return None
        lines = stats.read_text().splitlines()
        header = lines[0].split(",")
        total = next(line.split(",") for line in lines[1:] if ",Aggregated," in line)
        row = dict(zip(header, total, strict=False))
        return {
            "rate": float(row["Requests/s"]),
            "p99_ms": float(row["99%"]) if row.get("99%") not in (None, "N/A") else None,
            "cpu_s": round(cpu, 2),
            "cpu_share": round(cpu / wall, 2),
        }


def _with_server_cpu(
    server_pid: int, tool: Callable[[], dict[str, Any] | None]
) -> dict[str, Any] | None:
    """A tool's figures with the server's share of a core while it ran."""
    before = cpu_s(server_pid)
    started = time.monotonic()
    found = tool()
    if found is not None:
        found["server_cpu_share"] = round(
            (cpu_s(server_pid) - before) / (time.monotonic() - started), 2
        )
    return found


def _round(
    url: str, seconds: float, workers: int, locust_python: str | None, server_pid: int
) -> dict[str, Any]:
    """One comparison: srekit's rising rates until one is not held, then the others."""
    load = os.getloadavg()[0]
    runs = []
    for rate in RATES:
        run = _srekit(url, rate, seconds, workers, server_pid)
        runs.append(run)
        print(json.dumps(run), flush=True)
        if not run["held"]:
            break
    held = [run for run in runs if run["held"]]
    best = held[-1] if held else None
    return {
        "load_average_1m": round(load, 2),
        "srekit": {
            "rate": best["achieved"] if best else 0,
            "max_asked_rate_held": best["asked"] if best else 0,
            "max_intact_rate": max((run["asked"] for run in runs if run["intact"]), default=0),
            "p99_ms": best["p99_ms"] if best else None,
            "cpu_s": best["worker_cpu_s"] if best else None,
            "cpu_share": round(best["worker_cpu_s"] / best["wall_s"], 2) if best else None,
            "runs": runs,
        },
        "wrk": _with_server_cpu(server_pid, lambda: _wrk(url, seconds)),
        "autocannon": _with_server_cpu(server_pid, lambda: _autocannon(url, seconds)),
        "locust": _with_server_cpu(server_pid, lambda: _locust(locust_python, url, seconds)),
    }


def _ranges(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each tool's figure across the rounds, as [lowest, highest]."""
    summary: dict[str, Any] = {}
    for tool in ("srekit", "wrk", "autocannon", "locust"):
        figures: dict[str, list[float]] = {}
        for found in (r[tool] for r in rounds if r.get(tool)):
            for name in ("rate", "max_intact_rate", "p99_ms", "cpu_s", "cpu_share"):
                if isinstance(found.get(name), int | float):
                    figures.setdefault(name, []).append(found[name])
        if figures:
            summary[tool] = {name: [min(v), max(v)] for name, v in figures.items()}
    ratios: dict[str, list[float]] = {}
    for found in rounds:
        held = found["srekit"]["max_asked_rate_held"]
        intact = found["srekit"]["max_intact_rate"]
        for tool, name in (("wrk", "srekit_share_of_wrk"), ("locust", "srekit_over_locust"),
                           ("autocannon", "srekit_share_of_autocannon")):  # fmt: skip
            if found.get(tool) and found[tool].get("rate"):
                rate = found[tool]["rate"]
                ratios.setdefault(name, []).append(round(held / rate, 3))
                ratios.setdefault(f"{name}_p99_intact", []).append(round(intact / rate, 3))
    summary.update({name: [min(v), max(v)] for name, v in ratios.items()})
    summary["load_average_1m"] = [
        min(r["load_average_1m"] for r in rounds),
        max(r["load_average_1m"] for r in rounds),
    ]
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--locust-python", default=None)
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 10.0)
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        rounds = []
        for _ in range(max(min(args.repeat, 5), 1)):
            assert server.pid is not None
            found = _round(url, seconds, args.workers, args.locust_python, server.pid)
            rounds.append(found)
            shown = {k: v for k, v in found.items() if k != "srekit"}
            shown["srekit"] = {k: v for k, v in found["srekit"].items() if k != "runs"}
            print(json.dumps(shown), flush=True)
    finally:
        server.kill()
        server.join()
    result = {
        "seconds": seconds,
        "workers": args.workers,
        "ranges": _ranges(rounds),
        "rounds": rounds,
    }
    print(json.dumps(result["ranges"], indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_load.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
