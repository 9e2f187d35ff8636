"""Load generator benchmark: the highest rate `srekit load run`'s generator holds with its p99
intact, beside wrk and Locust when they are installed, against one minimal local HTTP server.

"p99 intact": the open model's achieved rate within 2 % of the asked one, no dropped
iterations or errors, and the generator's own lateness small: p99 of `http_req_duration`
(from the intended send) at most 5 ms above p99 of `http_req_service_time` (from the actual
send). The server is a small asyncio server in a process of its own (two cores: it takes one,
the generator the other, with `--workers`). Runs are short (`--seconds`, ≤ 10). wrk comes from
Debian (`apt-get install wrk`), Locust from benchmarks/requirements-load.txt in a venv of its
own, named by `--locust-python`.

    .venv/bin/python -m benchmarks.bench_load [--seconds 4] [--workers 1] \
        [--locust-python /path/to/venv/bin/python]

Targets: >= 2x Locust's rate, >= 25 % of wrk's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from srekit.core.load import LoadPlan, LoadRequest, OpenModel, Stage
from srekit.flows.load import run_load_test

RESULTS = Path(__file__).resolve().parent / "results"
RATES = (1_000, 2_000, 4_000, 6_000, 8_000, 12_000)
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _srekit(url: str, rate: int, seconds: float, workers: int) -> dict[str, Any]:
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
    started = time.monotonic()
    report = run_load_test(plan, workers=workers)
    wall = time.monotonic() - started
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
        "held": held,
        "intact": intact,
    }


def _wrk(url: str, seconds: float) -> dict[str, Any] | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    done = subprocess.run(
        [wrk, "-t1", "-c32", f"-d{int(seconds)}s", "--latency", url + "/"],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 30,
    )
    found = re.search(r"Requests/sec:\s+([0-9.]+)", done.stdout)
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", done.stdout)
    return {
        "rate": float(found.group(1)) if found else None,
        "p99": p99.group(0) if p99 else None,
        "closed_loop": "1 thread, 32 connections",
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
        subprocess.run(
            [
                python, "-m", "locust", "-f", str(locustfile), "--headless", "-u", "32",
                "-r", "32", "-t", f"{int(seconds)}s", "--host", url, "--csv", str(prefix),
                "--only-summary",
            ],
            capture_output=True, text=True, check=False, timeout=seconds + 60,
        )  # fmt: skip
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            return None
        lines = stats.read_text().splitlines()
        header = lines[0].split(",")
        total = next(line.split(",") for line in lines[1:] if ",Aggregated," in line)
        row = dict(zip(header, total, strict=False))
        return {"rate": float(row["Requests/s"]), "p99_ms": row.get("99%")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--locust-python", default=None)
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 10.0)
    port = _free_port()
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
        runs = []
        for rate in RATES:
            run = _srekit(url, rate, seconds, args.workers)
            runs.append(run)
            print(json.dumps(run), flush=True)
            if not run["held"]:
                break
        held = max((run["asked"] for run in runs if run["intact"]), default=0)
        rate_only = max((run["asked"] for run in runs if run["held"]), default=0)
        wrk = _wrk(url, seconds)
        locust = _locust(args.locust_python, url, seconds)
    finally:
        server.kill()
        server.join()
    result = {
        "seconds": seconds,
        "workers": args.workers,
        "srekit_max_intact_rate": held,
        "srekit_max_rate_held": rate_only,
        "srekit_runs": runs,
        "wrk": wrk,
        "locust": locust,
    }
    if wrk and wrk["rate"]:
        result["srekit_share_of_wrk"] = round(rate_only / wrk["rate"], 3)
    if locust and locust["rate"]:
        result["srekit_over_locust"] = round(rate_only / locust["rate"], 2)
    print(json.dumps({k: v for k, v in result.items() if k != "srekit_runs"}, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_load.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
