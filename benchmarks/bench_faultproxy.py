"""The fault proxy's cost: added latency without toxics, throughput, latency toxic accuracy.

The proxy (`srekit chaos proxy`, as the chaos CLI registers it) and the upstream (an echo
server that also counts and discards bulk data) each run in a process of their own; the
client here is a third. All on the same two cores.

- added latency: 64-byte echoes on one connection, direct vs through the proxy, p50/p99 of
  each and their difference (target p99 ≤ 0.5 ms added). The two are measured in `--rounds`
  alternating rounds of `--echoes` each (direct first in even rounds, proxied first in odd
  ones), so a burst of other work on the machine falls on both rather than on one; the
  figures pool every round, and each round's own added p99 is listed beside them;
- throughput: `--megabytes` (1024) sent one way on one connection through the proxy, the
  upstream answering once all arrived (target ≥ 500 MB/s), and the same direct;
- latency toxic: `latency` 50 ms downstream, p50 of the round trip less the direct p50
  (target within ±2 ms);
- the proxy process's own CPU time (user + system, from /proc) per echo and per GB moved:
  on a shared machine the wall-clock figures above move with the load, the CPU a byte costs
  much less, so it is what tells two versions of the data path apart.

    python -m benchmarks.bench_faultproxy [--megabytes 1024] [--echoes 2000] [--rounds 5]

Prints and writes results/faultproxy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.procstat import cpu_s, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

_UPSTREAM = r"""
import socket, sys, threading
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
def serve(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    first = conn.recv(65536)
    if first.startswith(b"BULK "):
        want = int(first.split()[1]); got = len(first) - len(first.split(b"\n", 1)[0]) - 1
        buffer = bytearray(1 << 20)
        while got < want:
            n = conn.recv_into(buffer)
            if not n: return
            got += n
        conn.sendall(b"done")
        conn.close(); return
    data = first
    while data:
        conn.sendall(data)
        data = conn.recv(65536)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""

_PROXY = (
    "import sys, typer\n"
    "from srekit.cli.chaos_proxy import add_proxy_command\n"
    "app = typer.Typer()\n"
    "app.callback()(lambda: None)\n"
    "add_proxy_command(app)\n"
    "app(sys.argv[1:])\n"
)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _echoes(port: int, count: int) -> list[float]:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = b"x" * 64
        times = []
        for _ in range(count):
            started = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < len(payload):
                got += len(sock.recv(65536))
            times.append(time.perf_counter() - started)
    return times[count // 10 :]  # the first tenth warms up


def _alternating_echoes(
    direct_port: int, proxy_port: int, proxy_pid: int, echoes: int, rounds: int
) -> tuple[list[float], list[float], list[float], float]:
    """Direct and proxied round trips in alternating rounds: (direct, proxied, each round's
    added p99 in ms, the proxy's CPU seconds over the proxied rounds)."""
    direct: list[float] = []
    through: list[float] = []
    added_p99: list[float] = []
    cpu = 0.0
    for number in range(rounds):
        if number % 2 == 0:
            direct_round = _echoes(direct_port, echoes)
        cpu_before = cpu_s(proxy_pid)
        through_round = _echoes(proxy_port, echoes)
        cpu += cpu_s(proxy_pid) - cpu_before
        if number % 2 == 1:
            direct_round = _echoes(direct_port, echoes)
        direct += direct_round
        through += through_round
        added_p99.append(
            (_percentile(through_round, 0.99) - _percentile(direct_round, 0.99)) * 1000
        )
    return direct, through, added_p99, cpu


def _bulk(port: int, megabytes: int) -> float:
    total = megabytes << 20
    block = b"\0" * (1 << 20)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.perf_counter()
        sock.sendall(f"BULK {total}\n".encode())
        for _ in range(megabytes):
            sock.sendall(block)
        assert sock.recv(10) == b"done"
        elapsed = time.perf_counter() - started
    return total / elapsed / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--echoes", type=int, default=2000, help="echoes per round and path")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    upstream = subprocess.Popen(
        [sys.executable, "-c", _UPSTREAM], stdout=subprocess.PIPE, text=True
    )
    assert upstream.stdout is not None
    echo_port = int(upstream.stdout.readline())
    api_port, proxy_port = free_port(), free_port()
    proxy = subprocess.Popen(
        [sys.executable, "-c", _PROXY, "proxy", "--listen", f"127.0.0.1:{api_port}"],
        stderr=subprocess.DEVNULL,
    )
    try:
        api = f"http://127.0.0.1:{api_port}"
        for _ in range(200):
            try:
                httpx.get(f"{api}/version")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        created = httpx.post(
            f"{api}/proxies",
            json={
                "name": "bench",
                "listen": f"127.0.0.1:{proxy_port}",
                "upstream": f"127.0.0.1:{echo_port}",
            },
        )
        created.raise_for_status()
        direct, through, round_added_p99, cpu_echoes = _alternating_echoes(
            echo_port, proxy_port, proxy.pid, args.echoes, max(args.rounds, 1)
        )
        direct_mb_s = _bulk(echo_port, args.megabytes)
        cpu_before = cpu_s(proxy.pid)
        proxy_mb_s = _bulk(proxy_port, args.megabytes)
        cpu_bulk = cpu_s(proxy.pid) - cpu_before
        httpx.post(
            f"{api}/proxies/bench/toxics", json={"type": "latency", "attributes": {"latency": 50}}
        ).raise_for_status()
        poisoned = _echoes(proxy_port, 200)
    finally:
        proxy.terminate()
        upstream.kill()
        proxy.wait(10)
        upstream.wait(10)
    ms = 1000
    figures: dict[str, Any] = {
        "direct_p50_ms": statistics.median(direct) * ms,
        "direct_p99_ms": _percentile(direct, 0.99) * ms,
        "proxy_p50_ms": statistics.median(through) * ms,
        "proxy_p99_ms": _percentile(through, 0.99) * ms,
        "direct_mb_s": direct_mb_s,
        "proxy_mb_s": proxy_mb_s,
        "latency_toxic_asked_ms": 50,
        "latency_toxic_p50_added_ms": (statistics.median(poisoned) - statistics.median(direct))
        * ms,
        "proxy_cpu_us_per_echo": cpu_echoes / (args.echoes * max(args.rounds, 1)) * 1e6,
        "proxy_cpu_s_per_gb": cpu_bulk / (args.megabytes * (1 << 20) / 1e9),
        "load_average_1m": os.getloadavg()[0],
        "megabytes": args.megabytes,
        "echoes": args.echoes,
        "rounds": max(args.rounds, 1),
    }
    figures["added_p50_ms"] = figures["proxy_p50_ms"] - figures["direct_p50_ms"]
    figures["added_p99_ms"] = figures["proxy_p99_ms"] - figures["direct_p99_ms"]
    figures["added_p99_ms_by_round"] = [round(value, 3) for value in round_added_p99]
    for key, value in figures.items():
        print(f"{key:28} {value:10.3f}" if isinstance(value, float) else f"{key:28} {value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "faultproxy.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
