"""The scenario library: each scenario's faults, rollbacks and blast radius, by hand; every
generated experiment reads back as a valid experiment inside its own blast radius."""

from __future__ import annotations

from typing import Any

import pytest

from srekit.core.chaos import ExperimentError, outside_blast_radius
from srekit.core.chaos_scenarios import SCENARIOS, build_scenario
from srekit.spec.chaos import parse_experiment


def _valid(experiment: dict[str, Any]) -> None:
    parsed = parse_experiment(experiment, file="generated.yaml", environ={})
    assert outside_blast_radius(parsed) == ()
    assert parsed.srekit.allowed_targets


@pytest.mark.parametrize("scenario", [s.name for s in SCENARIOS])
@pytest.mark.parametrize("tools", [(), ("kubectl", "stress-ng")])
def test_every_scenario_generates_a_valid_experiment(scenario: str, tools: tuple[str, ...]) -> None:
    target = "cpu" if scenario == "resource" else "payments"
    _valid(build_scenario(scenario, target=target, parameters={}, tools=tools))


def test_network_adds_latency_and_loss_through_the_proxy_api_and_removes_them() -> None:
    experiment = build_scenario(
        "network",
        target="payments",
        parameters={
            "latency_ms": "800",
            "jitter_ms": "50",
            "loss_percent": "5",
            "duration_s": "30",
        },
    )
    adds = [action["provider"] for action in experiment["method"]]
    assert [add["url"] for add in adds] == ["http://127.0.0.1:8474/proxies/payments/toxics"] * 2
    assert [add["arguments"]["type"] for add in adds] == ["latency", "reset_peer"]
    # the toxics expire by themselves 30 s (the default margin) after the 30 s of the fault
    assert adds[0]["arguments"]["attributes"] == {"latency": 800, "jitter": 50, "ttl": 60_000}
    assert adds[1]["arguments"]["attributes"] == {"timeout": 0, "ttl": 60_000}
    assert adds[1]["arguments"]["toxicity"] == 0.05  # 5 % of connections
    assert experiment["method"][-1]["pauses"] == {"after": 30}
    removes = [action["provider"] for action in experiment["rollbacks"]]
    assert [r["url"].rsplit("/", 1)[-1] for r in removes] == ["srekit-latency", "srekit-loss"]
    assert experiment["extensions"][0]["blast_radius"]["allowed_targets"] == [
        "127.0.0.1:8080",
        "http://127.0.0.1:8474/proxies/payments",
    ]
    without_loss = build_scenario("network", target="payments", parameters={})
    assert len(without_loss["method"]) == 1


@pytest.mark.parametrize(
    ("mode", "kind", "attributes"),
    [
        ("timeout", "timeout", {"timeout": 0, "ttl": 12_000}),
        ("error", "reset_peer", {"timeout": 0, "ttl": 12_000}),
        ("slow", "bandwidth", {"rate": 3, "ttl": 12_000}),
    ],
)
def test_dependency_modes(mode: str, kind: str, attributes: dict[str, int]) -> None:
    parameters = {"mode": mode, "rate_kb": "3", "duration_s": "10", "ttl_margin_s": "2"}
    experiment = build_scenario("dependency", target="db", parameters=parameters)
    (add,) = experiment["method"]
    assert (add["provider"]["arguments"]["type"], add["provider"]["arguments"]["attributes"]) == (
        kind,
        attributes,
    )


def test_process_signals_locally_or_deletes_a_pod_with_kubectl() -> None:
    local = build_scenario("process", target="checkout", parameters={"signal": "KILL"})
    assert local["method"][0]["provider"]["path"] == "pkill"
    assert local["method"][0]["provider"]["arguments"] == ["-KILL", "-x", "checkout"]
    pod = build_scenario("process", target="checkout-7d9", parameters={}, tools=("kubectl",))
    assert pod["method"][0]["provider"]["arguments"][-1] == "checkout-7d9"
    assert pod["method"][0]["provider"]["path"] == "kubectl"
    forced = build_scenario(
        "process", target="checkout", parameters={"platform": "local"}, tools=("kubectl",)
    )
    assert forced["method"][0]["provider"]["path"] == "pkill"


def test_resource_uses_stress_ng_when_installed_else_srekits_hog() -> None:
    stress = build_scenario(
        "resource",
        target="memory",
        parameters={"memory_mb": "64", "duration_s": "20"},
        tools=("stress-ng",),
    )
    (hog,) = stress["method"]
    assert hog["provider"]["arguments"] == ["--vm", "1", "--vm-bytes", "64M", "--timeout", "20s"]
    assert "pauses" not in hog  # stress-ng lasts the duration itself
    assert stress["rollbacks"][0]["provider"]["arguments"] == ["-TERM", "-x", "stress-ng"]
    cpu = build_scenario(
        "resource", target="cpu", parameters={"workers": "2"}, tools=("stress-ng",)
    )
    assert cpu["method"][0]["provider"]["arguments"][:2] == ["--cpu", "2"]
    builtin = build_scenario(
        "resource", target="cpu", parameters={"workers": "2", "duration_s": "5"}
    )
    assert builtin["method"][0]["provider"]["arguments"] == {"workers": 2, "seconds": 5}
    assert builtin["method"][0]["pauses"] == {"after": 5}
    memory = build_scenario("resource", target="memory", parameters={})
    assert memory["method"][0]["provider"]["func"] == "hog_memory"
    assert builtin["rollbacks"][0]["provider"]["func"] == "stop_hogs"


def test_an_slo_adds_a_burn_rate_probe() -> None:
    experiment = build_scenario(
        "process",
        target="checkout",
        parameters={"slo": "checkout/availability", "max_burn_rate": "14"},
    )
    probe = experiment["steady-state-hypothesis"]["probes"][1]
    assert probe["tolerance"] == {"type": "range", "range": [0, 14]}
    assert probe["provider"]["module"] == "srekit.chaos.probes"
    assert probe["provider"]["arguments"] == {"slo": "checkout/availability", "window": "5m"}


@pytest.mark.parametrize(
    ("scenario", "target", "parameters", "field"),
    [
        ("earthquake", "x", {}, "scenario"),
        ("network", "x", {"colour": "red"}, "colour"),
        ("network", "a b", {}, "target"),
        ("network", "x", {"latency_ms": "fast"}, "latency_ms"),
        ("network", "x", {"latency_ms": "-1"}, "latency_ms"),
        ("network", "x", {"duration_s": "1e309"}, "duration_s"),
        ("network", "x", {"proxy_api": "ftp://h"}, "proxy_api"),
        ("network", "x", {"health_url": "http://h:99999999/"}, "health_url"),
        ("dependency", "x", {"mode": "flaky"}, "mode"),
        ("dependency", "x", {"ttl_margin_s": "-5"}, "ttl_margin_s"),
        ("network", "x", {"ttl_margin_s": "NaN"}, "ttl_margin_s"),
        ("process", "x", {"signal": "SEGV; rm"}, "signal"),
        ("process", "x", {"platform": "kubernetes", "namespace": "a/b"}, "namespace"),
        ("resource", "disk", {}, "target"),
        ("resource", "cpu", {"slo": "no-slash"}, "slo"),
    ],
)
def test_bad_parameters_name_the_field(
    scenario: str, target: str, parameters: dict[str, str], field: str
) -> None:
    with pytest.raises(ExperimentError) as refused:
        build_scenario(scenario, target=target, parameters=parameters)
    assert refused.value.field == field
