"""The scenario library: four experiments as templates, each with a steady state (the target's
health answers 200, and optionally an SLO's burn rate stays low), a blast radius that names
exactly what it touches, a TTL, and rollbacks that undo what can be undone.

- `network`: latency and jitter, and a share of connections reset (loss), added by the fault
  proxy's Toxiproxy REST API in front of a dependency;
- `dependency`: the dependency times out, errors (connections reset) or is slow (bandwidth
  cut to a trickle), through the same API;
  each toxic carries the fault proxy's `ttl` (`duration_s` plus `ttl_margin_s`), so a run that
  crashes before its rollbacks cannot leave the fault in place: the proxy removes it itself;
- `process`: a local process is signalled (`pkill`), or a pod deleted (`kubectl`) when kubectl
  is at hand;
- `resource`: CPU or memory exhausted for a while, by `stress-ng` when installed, else by
  srekit's own hog (`srekit.chaos.actions`), which stops by itself when its time is over.

Pure: which tools are installed is the caller's to say (`tools`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from srekit.core.chaos import ExperimentError

__all__ = ["SCENARIOS", "Scenario", "ScenarioParameter", "build_scenario"]


@dataclass(frozen=True)
class ScenarioParameter:
    name: str
    help: str
    default: str


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    target: str  # what --target names
    parameters: tuple[ScenarioParameter, ...]


_COMMON = (
    ScenarioParameter(
        "health_url", "the steady state: this URL answers 200", "http://127.0.0.1:8080/health"
    ),
    ScenarioParameter(
        "slo", "also keep this SLO's 5m burn rate under max_burn_rate (service/name)", ""
    ),
    ScenarioParameter("max_burn_rate", "the highest 5m burn rate the steady state allows", "10"),
    ScenarioParameter("duration_s", "seconds the fault stays in place", "60"),
    ScenarioParameter("ttl", "the longest the run may last", "15m"),
)
_PROXY = (
    ScenarioParameter("proxy_api", "the fault proxy's REST API", "http://127.0.0.1:8474"),
    ScenarioParameter(
        "ttl_margin_s",
        "the toxic removes itself this many seconds after duration_s (a crashed run's fault)",
        "30",
    ),
)

SCENARIOS = (
    Scenario(
        "network",
        "latency, jitter and loss between a service and a dependency (fault proxy)",
        "the fault proxy's proxy name",
        (
            ScenarioParameter("latency_ms", "added latency", "500"),
            ScenarioParameter("jitter_ms", "random variation of the latency", "0"),
            ScenarioParameter("loss_percent", "share of connections reset", "0"),
            *_PROXY,
            *_COMMON,
        ),
    ),
    Scenario(
        "dependency",
        "a dependency times out, errors or is slow (fault proxy)",
        "the fault proxy's proxy name",
        (
            ScenarioParameter("mode", "timeout, error or slow", "timeout"),
            ScenarioParameter("rate_kb", "slow: bandwidth in KB/s", "1"),
            *_PROXY,
            *_COMMON,
        ),
    ),
    Scenario(
        "process",
        "a process is signalled, or a pod deleted when kubectl is at hand",
        "a process name, or a pod name",
        (
            ScenarioParameter("signal", "the signal sent to a local process", "TERM"),
            ScenarioParameter(
                "platform",
                "auto (kubernetes when kubectl is installed), local or kubernetes",
                "auto",
            ),
            ScenarioParameter("namespace", "the pod's namespace", "default"),
            *_COMMON,
        ),
    ),
    Scenario(
        "resource",
        "CPU or memory exhausted for a while (stress-ng, else srekit's own hog)",
        "cpu or memory",
        (
            ScenarioParameter("workers", "cpu: busy workers", "1"),
            ScenarioParameter("memory_mb", "memory: megabytes held", "256"),
            *_COMMON,
        ),
    ),
)
_BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
_SIGNALS = ("TERM", "KILL", "INT", "HUP", "QUIT", "STOP", "CONT", "USR1", "USR2")


def _number(parameters: Mapping[str, str], name: str, *, low: float, high: float) -> int:
    text = parameters[name]
    try:
        value = int(text)
    except ValueError:
        raise ExperimentError(f"expected a whole number, got {text!r}", field=name) from None
    if not low <= value <= high:
        raise ExperimentError(
            f"expected a number from {low:g} to {high:g}, got {value}", field=name
        )
    return value


def _choice(parameters: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = parameters[name]
    if value not in choices:
        raise ExperimentError(f"expected one of {', '.join(choices)}, got {value!r}", field=name)
    return value


def _host(url: str, name: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = None
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ExperimentError(f"expected an http(s) URL, got {url!r}", field=name)
    return f"{parts.hostname}:{port}" if port else parts.hostname


def build_scenario(
    name: str, *, target: str, parameters: Mapping[str, str], tools: Collection[str] = ()
) -> dict[str, Any]:
    """The experiment (a Chaos Toolkit document, srekit's extension included) for scenario
    `name` against `target`, with `parameters` over the scenario's defaults. `tools` are the
    executables installed (`kubectl`, `stress-ng`). An ExperimentError names a bad value."""
    scenario = _BY_NAME.get(name)
    if scenario is None:
        raise ExperimentError(
            f"expected one of {', '.join(_BY_NAME)}, got {name!r}", field="scenario"
        )
    known = {parameter.name: parameter.default for parameter in scenario.parameters}
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ExperimentError(
            f"{name} takes {', '.join(known)}; not {', '.join(unknown)}", field=unknown[0]
        )
    if not _NAME.fullmatch(target):
        raise ExperimentError(
            "expected a name of letters, digits, '.', '_' and '-'", field="target"
        )
    values = {**known, **parameters}
    duration = _number(values, "duration_s", low=1, high=86_400)
    health = values["health_url"]
    radius = [_host(health, "health_url")]
    method: list[dict[str, Any]]
    rollbacks: list[dict[str, Any]]
    if name in ("network", "dependency"):
        method, rollbacks = _toxics(name, target, values, duration)
        radius.append(values["proxy_api"].rstrip("/") + f"/proxies/{target}")
    elif name == "process":
        method, rollbacks = _process(target, values, tools)
        radius.append(target)
    else:
        method, rollbacks, touched = _resource(target, values, tools, duration)
        radius.extend(touched)
    if method[-1]["provider"].get("path") != "stress-ng":  # stress-ng lasts the duration itself
        method[-1]["pauses"] = {"after": duration}
    probes: list[dict[str, Any]] = [
        {
            "type": "probe",
            "name": "target-is-healthy",
            "tolerance": 200,
            "provider": {"type": "http", "url": health, "timeout": 5},
        }
    ]
    if values["slo"]:
        probes.append(_burn_probe(values))
    return {
        "version": "1.0.0",
        "title": f"{scenario.summary} — {target}",
        "description": f"srekit scenario {name} against {target}; generated by srekit chaos new.",
        "tags": ["srekit", name],
        "steady-state-hypothesis": {"title": "the target stays healthy", "probes": probes},
        "method": method,
        "rollbacks": rollbacks,
        "runtime": {
            "rollbacks": {"strategy": "always"},
            "hypothesis": {"strategy": "continuously", "frequency": 5},
        },
        "extensions": [
            {
                "name": "srekit",
                "blast_radius": {"allowed_targets": list(dict.fromkeys(radius))},
                "ttl": values["ttl"],
            }
        ],
    }


def _burn_probe(values: Mapping[str, str]) -> dict[str, Any]:
    slo = values["slo"]
    if slo.count("/") != 1:
        raise ExperimentError(f"expected an SLO as service/name, got {slo!r}", field="slo")
    limit = _number(values, "max_burn_rate", low=0, high=1_000_000)
    return {
        "type": "probe",
        "name": "slo-burn-rate-is-low",
        "tolerance": {"type": "range", "range": [0, limit]},
        "provider": {
            "type": "python",
            "module": "srekit.chaos.probes",
            "func": "slo_burn_rate",
            "arguments": {"slo": slo, "window": "5m"},
        },
    }


_Toxic = tuple[str, str, dict[str, int], float]  # name, Toxiproxy type, attributes, toxicity


def _toxic(
    proxy_api: str, target: str, chosen: _Toxic, ttl_ms: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    toxic, kind, attributes, toxicity = chosen
    base = f"{proxy_api.rstrip('/')}/proxies/{target}/toxics"
    add = {
        "type": "action",
        "name": f"add-{toxic}",
        "provider": {
            "type": "http",
            "method": "POST",
            "url": base,
            "headers": {"Content-Type": "application/json"},
            "arguments": {
                "name": toxic,
                "type": kind,
                "stream": "downstream",
                "toxicity": toxicity,
                "attributes": {**attributes, "ttl": ttl_ms},
            },
            "expected_status": [200, 201],
            "timeout": 10,
        },
    }
    remove = {
        "type": "action",
        "name": f"remove-{toxic}",
        "provider": {
            "type": "http",
            "method": "DELETE",
            "url": f"{base}/{toxic}",
            "expected_status": [200, 204, 404],
            "timeout": 10,
        },
    }
    return add, remove


def _toxics(
    name: str, target: str, values: Mapping[str, str], duration_s: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The toxics' adds (the method) and deletes (the rollbacks). Each toxic's `ttl` (ms, the
    fault proxy's extension) is the fault's duration plus the margin: the longest it stays
    when the rollbacks never run."""
    api = values["proxy_api"]
    _host(api, "proxy_api")
    ttl_ms = (duration_s + _number(values, "ttl_margin_s", low=0, high=86_400)) * 1000
    chosen: list[_Toxic] = []
    if name == "network":
        latency = _number(values, "latency_ms", low=0, high=600_000)
        jitter = _number(values, "jitter_ms", low=0, high=600_000)
        loss = _number(values, "loss_percent", low=0, high=100)
        chosen.append(("srekit-latency", "latency", {"latency": latency, "jitter": jitter}, 1.0))
        if loss:
            chosen.append(("srekit-loss", "reset_peer", {"timeout": 0}, loss / 100))
    else:
        mode = _choice(values, "mode", ("timeout", "error", "slow"))
        if mode == "timeout":
            chosen.append(("srekit-timeout", "timeout", {"timeout": 0}, 1.0))
        elif mode == "error":
            chosen.append(("srekit-error", "reset_peer", {"timeout": 0}, 1.0))
        else:
            rate = _number(values, "rate_kb", low=1, high=10_000_000)
            chosen.append(("srekit-slow", "bandwidth", {"rate": rate}, 1.0))
    pairs = [_toxic(api, target, toxic, ttl_ms) for toxic in chosen]
    return [add for add, _ in pairs], [remove for _, remove in pairs]


def _process(
    target: str, values: Mapping[str, str], tools: Collection[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    platform = _choice(values, "platform", ("auto", "local", "kubernetes"))
    if platform == "kubernetes" or (platform == "auto" and "kubectl" in tools):
        namespace = values["namespace"]
        if not _NAME.fullmatch(namespace):
            raise ExperimentError("expected a namespace name", field="namespace")
        arguments = ["delete", "pod", "--namespace", namespace, "--wait=false", target]
        return [_run("delete-pod", "kubectl", arguments)], []
    signal = _choice(values, "signal", _SIGNALS)
    return [_run("signal-process", "pkill", [f"-{signal}", "-x", target])], []


def _run(name: str, path: str, arguments: list[str], timeout: int = 30) -> dict[str, Any]:
    provider = {"type": "process", "path": path, "arguments": arguments, "timeout": timeout}
    return {"type": "action", "name": name, "provider": provider}


def _resource(
    target: str, values: Mapping[str, str], tools: Collection[str], duration: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    kind = _choice({"target": target}, "target", ("cpu", "memory"))
    workers = _number(values, "workers", low=1, high=256)
    megabytes = _number(values, "memory_mb", low=1, high=1_048_576)
    if "stress-ng" in tools:
        load = (
            ["--cpu", str(workers)]
            if kind == "cpu"
            else ["--vm", "1", "--vm-bytes", f"{megabytes}M"]
        )
        hog = _run(
            "exhaust-" + kind, "stress-ng", [*load, "--timeout", f"{duration}s"], duration + 30
        )
        stop = _run("stop-stress-ng", "pkill", ["-TERM", "-x", "stress-ng"])
        return [hog], [stop], ["stress-ng"]
    arguments: dict[str, Any] = (
        {"workers": workers, "seconds": duration}
        if kind == "cpu"
        else {"megabytes": megabytes, "seconds": duration}
    )
    hog = {
        "type": "action",
        "name": "exhaust-" + kind,
        "provider": {
            "type": "python",
            "module": "srekit.chaos.actions",
            "func": f"hog_{kind}",
            "arguments": arguments,
        },
    }
    stop = {
        "type": "action",
        "name": "stop-hogs",
        "provider": {"type": "python", "module": "srekit.chaos.actions", "func": "stop_hogs"},
    }
    return [hog], [stop], []
