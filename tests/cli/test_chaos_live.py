"""The scenario library end to end: `srekit chaos new` writes each scenario, `srekit chaos run`
runs it against real parts (a front service whose dependency sits behind a real `srekit chaos
proxy`, a supervised local process, srekit's own hogs), and the journal and the proxy's state
say what happened: the toxic was there during the method and is gone afterwards, and a run
killed outright leaves a toxic the proxy removes by itself at its `ttl`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.cli.conftest import run
from tests.flows.chaos_live import (
    DEPENDENCY_BYTES,
    ROOT,
    SREKIT,
    ToxicWatch,
    front_service,
    http_service,
    proxy_process,
)
from tests.served import free_port

MARKER = b"srekit-chaos-hog"  # what srekit.chaos.actions puts in a hog's command line


@dataclass(frozen=True)
class Stage:
    """The parts a proxy scenario runs against."""

    api: str  # the fault proxy's API
    health: str  # the front service's health, the steady state
    home: Path

    @property
    def toxics(self) -> str:
        return f"{self.api}/proxies/deps/toxics"


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    workdir = tmp_path_factory.mktemp("chaos-live")
    listen = free_port()
    with http_service(lambda path: (200, b"x" * DEPENDENCY_BYTES)) as dependency:
        upstream = dependency.removeprefix("http://")
        proxies = [{"name": "deps", "listen": f"127.0.0.1:{listen}", "upstream": upstream}]
        with (
            proxy_process(proxies, workdir) as api,
            front_service(f"http://127.0.0.1:{listen}/data") as front,
        ):
            yield Stage(api, f"{front}/health", workdir / "home")


@pytest.fixture
def clean(stage: Stage) -> Stage:
    """The stage with no toxic left by an earlier test."""
    httpx.post(f"{stage.api}/reset", timeout=5).raise_for_status()
    assert httpx.get(stage.health, timeout=5).status_code == 200
    return stage


def _env(home: Path) -> dict[str, str]:
    return {"SREKIT_HOME": str(home), "SREKIT_DATABASE_URL": "", "SREKIT_PROMETHEUS_URL": ""}


def _new(
    tmp_path: Path, scenario: str, target: str, parameters: dict[str, str], **env: str
) -> Path:
    file = tmp_path / f"{scenario}.yaml"
    params = [part for name, value in parameters.items() for part in ("--param", f"{name}={value}")]
    code, _, err = run(
        "chaos",
        "new",
        "--scenario",
        scenario,
        "--target",
        target,
        *params,
        "-o",
        file,
        env=_env(tmp_path / "home") | env,
    )
    assert code == 0, err
    return file


def _run(tmp_path: Path, file: Path) -> tuple[int, dict[str, Any]]:
    journal = tmp_path / "journal.json"
    code, _, err = run(
        "chaos", "run", file, "--no-store", "--journal", journal, env=_env(tmp_path / "home")
    )
    assert "Traceback" not in err
    return code, json.loads(journal.read_text())


CASES = [
    # (scenario, parameters, the toxics it adds, deviated: the front's health fails)
    ("network", {"latency_ms": "100", "jitter_ms": "20"}, ["srekit-latency"], False),
    ("network", {"latency_ms": "1500", "jitter_ms": "100"}, ["srekit-latency"], True),
    (
        "network",
        {"latency_ms": "0", "loss_percent": "100"},
        ["srekit-latency", "srekit-loss"],
        True,
    ),
    ("dependency", {"mode": "timeout"}, ["srekit-timeout"], True),
    ("dependency", {"mode": "error"}, ["srekit-error"], True),
    # 20 KB at 10 KB/s takes 2 s, longer than the front waits for it
    ("dependency", {"mode": "slow", "rate_kb": "10"}, ["srekit-slow"], True),
]


@pytest.mark.parametrize(
    ("scenario", "parameters", "toxics", "deviated"),
    CASES,
    ids=[f"{case[0]}-{'-'.join(case[1].values())}" for case in CASES],
)
def test_proxy_scenarios_put_their_toxic_in_place_for_the_method_then_remove_it(
    clean: Stage,
    tmp_path: Path,
    scenario: str,
    parameters: dict[str, str],
    toxics: list[str],
    deviated: bool,
) -> None:
    margin_s, duration_s = 5, 1
    file = _new(
        tmp_path,
        scenario,
        "deps",
        {
            **parameters,
            "proxy_api": clean.api,
            "health_url": clean.health,
            "duration_s": str(duration_s),
            "ttl_margin_s": str(margin_s),
        },
    )
    with ToxicWatch(clean.toxics).watching() as watch:
        code, journal = _run(tmp_path, file)
    assert code == int(deviated)
    assert (journal["status"], journal["deviated"]) == ("completed", deviated)
    states = journal["steady_states"]
    assert states["before"]["steady_state_met"] is True
    if not deviated:  # rounds beside the method (continuously); a slow round ends too late
        assert [met["steady_state_met"] for met in states["during"]] == [True]
    (after,) = states["after"]["probes"]
    # the steady state after is probed before the rollbacks: the fault is still in place
    assert after["tolerance_met"] is not deviated
    assert after["output"]["status"] == (503 if deviated else 200)
    # each toxic was added with its ttl: the fault's duration plus the margin, in ms
    ttl_ms = (duration_s + margin_s) * 1000
    assert [step["activity"]["name"] for step in journal["run"]] == [f"add-{t}" for t in toxics]
    for step in journal["run"]:
        assert step["status"] == "succeeded"
        assert step["output"]["body"]["attributes"]["ttl"] == ttl_ms
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [
        (f"remove-{toxic}", "succeeded") for toxic in toxics
    ]
    assert [r["output"]["status"] for r in journal["rollbacks"]] == [204] * len(toxics)
    # the proxy's side: there during the run, with the ttl; gone once the run is over
    assert sorted(watch.seen) == sorted(toxics)
    assert {
        name: toxic["attributes"]["ttl"] for name, toxic in watch.seen.items()
    } == dict.fromkeys(toxics, ttl_ms)
    assert watch.now() == []
    assert httpx.get(clean.health, timeout=5).status_code == 200


def test_a_killed_run_leaves_a_toxic_that_the_proxy_removes_at_its_ttl(
    clean: Stage, tmp_path: Path
) -> None:
    duration_s, margin_s = 2, 1  # the toxic removes itself 3 s after it was added
    file = _new(
        tmp_path,
        "network",
        "deps",
        {
            "latency_ms": "50",
            "proxy_api": clean.api,
            "health_url": clean.health,
            "duration_s": str(duration_s),
            "ttl_margin_s": str(margin_s),
        },
    )
    watch = ToxicWatch(clean.toxics)
    process = subprocess.Popen(
        [SREKIT, "chaos", "run", str(file), "--no-store"],
        env={**os.environ, **_env(tmp_path / "home")},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not watch.now():  # the method added its toxic
            assert process.poll() is None, "the run ended before its method"
            assert time.monotonic() < deadline
        seen_at = time.monotonic()
        process.send_signal(signal.SIGKILL)  # no rollback can run
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert watch.now() == ["srekit-latency"]  # left behind
    while watch.now():
        assert time.monotonic() < seen_at + 10, "the toxic outlived its ttl"
        time.sleep(0.02)
    gone_after_s = time.monotonic() - seen_at
    ttl_s = duration_s + margin_s
    # seen a moment after it was added (the API answered first; the machine is shared):
    # gone at its ttl counted from then, not at the kill and not much later
    assert ttl_s - 0.5 <= gone_after_s <= ttl_s + 1.0
    assert httpx.get(clean.health, timeout=5).status_code == 200


def test_a_signalled_process_is_restarted_by_its_supervisor_and_the_steady_state_holds(
    tmp_path: Path,
) -> None:
    # a process of a name no other process has: a copy of sleep (pkill -x matches the name)
    name = f"srkv-{uuid.uuid4().hex[:8]}"
    victim_binary = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", victim_binary)
    victims = [subprocess.Popen([str(victim_binary), "600"])]
    exits: list[int] = []
    stop = threading.Event()

    def supervise() -> None:  # restarts the process when it ends, as systemd would
        while not stop.is_set():
            code = victims[-1].poll()
            if code is not None:
                exits.append(code)
                victims.append(subprocess.Popen([str(victim_binary), "600"]))
            stop.wait(0.05)

    def health(path: str) -> tuple[int, bytes]:
        return (200, b"ok") if victims[-1].poll() is None else (503, b"down")

    supervisor = threading.Thread(target=supervise, daemon=True)
    supervisor.start()
    try:
        with http_service(health) as service:
            file = _new(
                tmp_path,
                "process",
                name,
                {
                    "platform": "local",
                    "signal": "TERM",
                    "duration_s": "1",
                    "health_url": f"{service}/health",
                },
            )
            code, journal = _run(tmp_path, file)
    finally:
        stop.set()
        supervisor.join()
        for victim in victims:
            victim.kill()
            victim.wait()
    assert code == 0, journal
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    (step,) = journal["run"]
    assert step["activity"]["provider"]["arguments"] == ["-TERM", "-x", name]
    assert step["output"]["status"] == 0  # pkill found the process
    assert exits == [-signal.SIGTERM]  # killed once, by SIGTERM, and restarted
    assert len(victims) == 2
    assert journal["steady_states"]["after"]["probes"][0]["tolerance_met"] is True
    assert journal["rollbacks"] == []


def _hogs() -> dict[int, str]:
    """This user's hogs: process id → its state (R running or runnable, S sleeping, ...)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if MARKER not in (entry / "cmdline").read_bytes().split(b"\0")[-2:]:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = fields[0]
    return found


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), "0 0")
    return int(line.split()[1])


@pytest.mark.parametrize("target", ["cpu", "memory"])
def test_srekits_hog_exhausts_the_resource_for_its_duration_then_is_gone(
    tmp_path: Path, target: str
) -> None:
    assert _hogs() == {}
    with http_service(lambda path: (200, b"ok")) as service:
        # PATH without stress-ng: the scenario falls back to srekit's own hog
        file = _new(
            tmp_path,
            "resource",
            target,
            {"duration_s": "2", "memory_mb": "32", "health_url": f"{service}/health"},
            PATH=str(tmp_path),
        )
        assert yaml.safe_load(file.read_text())["method"][0]["provider"]["func"] == f"hog_{target}"
        states: dict[int, list[str]] = {}
        rss: dict[int, int] = {}
        stop = threading.Event()

        def look() -> None:
            while not stop.is_set():
                for pid, state in _hogs().items():
                    states.setdefault(pid, []).append(state)
                    rss[pid] = max(rss.get(pid, 0), _rss_kb(pid))
                stop.wait(0.05)

        looker = threading.Thread(target=look, daemon=True)
        looker.start()
        try:
            code, journal = _run(tmp_path, file)
        finally:
            stop.set()
            looker.join()
    assert code == 0, journal
    (step,) = journal["run"]
    assert step["status"] == "succeeded"
    assert step["output"]["seconds"] == 2.0
    assert sorted(states) == sorted(step["output"]["pids"])
    (pid,) = step["output"]["pids"]
    if target == "cpu":
        # busy, never asleep: running or waiting for a CPU at nearly every look, however
        # loaded the machine (its CPU time would depend on the other processes)
        assert len(states[pid]) >= 10
        assert states[pid].count("R") >= 0.9 * len(states[pid])
    else:
        assert rss[pid] >= 32 * 1024  # every page of the 32 MB touched
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["stop-hogs"]
    deadline = time.monotonic() + 5
    while _hogs():  # stopped by the rollback, or by its own time limit
        assert time.monotonic() < deadline
        time.sleep(0.05)
