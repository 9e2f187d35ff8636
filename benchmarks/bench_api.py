"""The API under load: `GET /api/v1/status` (100 SLOs) and `GET /api/v1/gate` with wrk.

Target: ≥ 4,000 req/s with p99 < 25 ms on 2 cores, SQLite default. The server (one uvicorn
process, with its evaluation loop) and wrk share the machine's two cores; the CPU seconds each
used are reported.

    python -m benchmarks.bench_api        # needs Debian's wrk; writes results/api.json
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.procstat import cpu_s, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SERVICES = 50  # two SLOs each: 100 SLOs
DURATION_S = 15
CONNECTIONS = 64
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def _specs() -> str:
    documents = []
    for index in range(SERVICES):
        stream = "checkout" if index % 2 == 0 else "catalog"
        for name, good, objective in (
            ("availability", "status < 500", "99.5%"),
            ("latency", "duration_s <= 0.3", "95%"),
        ):
            documents.append(
                f"apiVersion: srekit/v1\nkind: SLO\nservice: svc-{index:02d}\nname: {name}\n"
                f"objective: {objective}\nwindow: 7d\n"
                f"indicator:\n  events:\n    good: {good}\n    stream: {stream}\n"
            )
    return "---\n".join(documents)


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


_UNIQUE_VERSIONS_LUA = """
counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  counter = counter + 1
  local version = "v" .. counter .. "-" .. math.random(1000000000)
  return wrk.format("GET", "/api/v1/gate?service=svc-07&change_type=feature&version=" .. version)
end
"""


def _wrk(url: str, token: str, server_pid: int, script: Path | None = None) -> dict[str, Any]:
    before_server = cpu_s(server_pid)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{DURATION_S}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            *(["-s", str(script)] if script else []),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.MULTILINE))
    requests = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if requests is None or not percentiles:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    return {
        "requests_per_s": float(requests.group(1)),
        "latency_p50_ms": round(_seconds(percentiles["50"]) * 1000, 2),
        "latency_p90_ms": round(_seconds(percentiles["90"]) * 1000, 2),
        "latency_p99_ms": round(_seconds(percentiles["99"]) * 1000, 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "server_cpu_s": round(cpu_s(server_pid) - before_server, 2),
        "wrk_cpu_s": round(
            after_children.ru_utime
            + after_children.ru_stime
            - before_children.ru_utime
            - before_children.ru_stime,
            2,
        ),
        "duration_s": DURATION_S,
        "connections": CONNECTIONS,
    }


def main() -> dict[str, Any]:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does)")
    srekit = str(Path(sys.executable).with_name("srekit"))
    home = Path(tempfile.mkdtemp(prefix="srekit-bench-api-"))
    env = {**os.environ, "SREKIT_HOME": str(home), "SREKIT_ACTOR": "bench"}
    specs = home / "specs.yaml"
    specs.write_text(_specs())
    for stream in ("checkout", "catalog"):
        log = ROOT / "examples" / "logs" / f"{stream}.access.log.gz"
        subprocess.run(
            [srekit, "events", "ingest", str(log), "--service", stream, "--end-at", "now"],
            env=env,
            check=True,
            capture_output=True,
        )
    subprocess.run(
        [srekit, "slo", "apply", "-f", str(specs)], env=env, check=True, capture_output=True
    )
    token = json.loads(
        subprocess.run(
            [srekit, "token", "create", "--role", "admin", "--name", "bench", "--format", "json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )["token"]
    port = free_port()
    server = subprocess.Popen(
        [srekit, "serve", "--port", str(port), "--interval", "3600", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    unique = home / "unique-versions.lua"
    unique.write_text(_UNIQUE_VERSIONS_LUA)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(
                    f"{base}/api/v1/status", headers={"Authorization": f"Bearer {token}"}
                )
                statuses = answer.json() if answer.status_code == 200 else []
                if len(statuses) == 2 * SERVICES and all(s["data"] == "ok" for s in statuses):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not evaluate the SLOs within 60 s")
            time.sleep(0.5)
        status_bytes = len(answer.content)
        figures: dict[str, Any] = {
            "slos": 2 * SERVICES,
            "database": "sqlite",
            "server": "srekit serve: one uvicorn process (uvloop + httptools), evaluation loop on",
            "load_generator": f"wrk -t2 -c{CONNECTIONS} -d{DURATION_S}s on the same 2 cores",
            "status_response_bytes": status_bytes,
            "status": _wrk(f"{base}/api/v1/status", token, server.pid),
            "gate": _wrk(
                f"{base}/api/v1/gate?service=svc-07&change_type=feature", token, server.pid
            ),
            # every request a new version: every answer is a deployment attempt to record
            "gate_unique_versions": _wrk(f"{base}/", token, server.pid, script=unique),
            "target": {"requests_per_s": 4000, "latency_p99_ms": 25},
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
