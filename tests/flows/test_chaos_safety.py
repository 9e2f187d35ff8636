"""The runner's safety and hypothesis strategies against a real service whose latency an
experiment sets: deviation exactly above the tolerance, rounds during the method with
fail-fast, the guard's abort, the TTL, the blast radius and the allow-list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from srekit.core.chaos import RunStatus, exit_code
from srekit.errors import SpecError
from srekit.flows.chaos import RunControl, run_experiment
from srekit.spec.chaos import parse_experiment
from tests.flows.chaos_service import (
    PROBES_MODULE,
    LatencyService,
    latency_experiment,
    latency_service,
)

ALLOWED = (PROBES_MODULE,)


@pytest.fixture
def service() -> Iterator[tuple[str, LatencyService]]:
    with latency_service() as running:
        yield running


def _run(data: dict[str, Any], **options: Any) -> dict[str, Any]:
    experiment = parse_experiment(data, file="e.yaml", environ={})
    return run_experiment(experiment, python_allowed=ALLOWED, **options)


@pytest.mark.parametrize(("latency_ms", "deviated"), [(50, False), (800, True)])
def test_latency_deviates_exactly_when_above_the_tolerance(
    service: tuple[str, LatencyService], latency_ms: int, deviated: bool
) -> None:
    base, state = service
    journal = _run(latency_experiment(base, latency_ms=latency_ms, tolerance_s=0.5))
    after = journal["steady_states"]["after"]["probes"][0]
    # the measured time is the added latency and a little more: above 0.5 s exactly at 800 ms
    assert latency_ms / 1000 <= after["output"] < latency_ms / 1000 + 0.4
    assert after["tolerance_met"] is not deviated
    assert (journal["status"], journal["deviated"]) == ("completed", deviated)
    assert exit_code(RunStatus.COMPLETED, deviated=deviated) == int(deviated)
    assert state.calls[-1] == "POST /latency 0"  # rolled back either way
    assert state.latency_s == 0


def test_rollbacks_run_when_the_method_fails(service: tuple[str, LatencyService]) -> None:
    base, state = service
    data = latency_experiment(base, latency_ms=100, tolerance_s=1)
    data["method"][0]["provider"]["url"] = "${base}/no-such-fault"
    journal = _run(data)
    assert journal["run"][0]["status"] == "failed"
    assert "answered 500" in journal["run"][0]["exception"][0]
    assert [run["status"] for run in journal["rollbacks"]] == ["succeeded"]
    assert state.calls[-1] == "POST /latency 0"


def test_continuously_runs_rounds_during_the_method_and_fail_fast_stops_it(
    service: tuple[str, LatencyService],
) -> None:
    base, state = service
    data = latency_experiment(
        base,
        latency_ms=800,
        tolerance_s=0.5,
        pause_after_s=30,
        runtime={
            "hypothesis": {
                "strategy": "continuously",
                "frequency": 0.1,
                "fail_fast": True,
                "fail_fast_ratio": 50,
            }
        },
    )
    started = time.monotonic()
    journal = _run(data)
    took = time.monotonic() - started
    assert took < 10  # the 30 s pause was cut short by the missed round
    assert journal["status"] == "failed"
    during = journal["steady_states"]["during"]
    # the first round may beat the action to the service; the first one after it misses,
    # and 1 missed of 1 or of 2 rounds reaches 50 %
    assert 1 <= len(during) <= 2
    assert during[-1]["steady_state_met"] is False
    assert during[-1]["probes"][0]["output"] >= 0.8
    assert journal["steady_states"]["before"]["steady_state_met"] is True
    # judged after the method too, before the rollbacks remove the latency
    assert journal["steady_states"]["after"]["steady_state_met"] is False
    assert journal["deviated"] is True
    assert state.latency_s == 0  # rolled back
    assert journal["extensions"] == [
        {
            "name": "srekit",
            "stopped_because": f"the steady state was missed in 1 of {len(during)} rounds",
        }
    ]


def test_during_method_only_probes_only_beside_the_method(
    service: tuple[str, LatencyService],
) -> None:
    base, _ = service
    data = latency_experiment(
        base,
        latency_ms=0,
        tolerance_s=1,
        pause_after_s=0.5,
        runtime={"hypothesis": {"strategy": "during-method-only", "frequency": 0.1}},
    )
    journal = _run(data)
    states = journal["steady_states"]
    assert (states["before"], states["after"]) == (None, None)
    # rounds every 0.1 s (plus the probe's own time) during a 0.5 s method: 2 to 6 of them
    assert 2 <= len(states["during"]) <= 6
    assert all(round_["steady_state_met"] for round_ in states["during"])
    assert (journal["status"], journal["deviated"]) == ("completed", False)


def test_the_guard_aborts_the_method_and_the_rollbacks_still_run(
    service: tuple[str, LatencyService],
) -> None:
    base, state = service
    data = latency_experiment(base, latency_ms=200, tolerance_s=1, pause_after_s=30)
    asked: list[float] = []

    def burning() -> str | None:
        asked.append(state.latency_s)
        return "checkout/availability burns 20x its budget" if state.latency_s > 0 else None

    started = time.monotonic()
    journal = _run(data, guard=burning, guard_interval_s=0.05)
    assert time.monotonic() - started < 10
    assert asked[-1] == 0.2
    assert journal["status"] == "aborted"
    assert journal["steady_states"]["after"] is None
    assert journal["rollbacks"][0]["status"] == "succeeded"
    assert state.latency_s == 0
    assert journal["extensions"][0]["stopped_because"].startswith("checkout/availability")


def test_the_ttl_interrupts_a_run_that_lasts_too_long(service: tuple[str, LatencyService]) -> None:
    base, state = service
    data = latency_experiment(
        base,
        latency_ms=10,
        tolerance_s=1,
        pause_after_s=30,
        extensions=[{"name": "srekit", "ttl": 1}],
    )
    started = time.monotonic()
    journal = _run(data)
    assert 1 <= time.monotonic() - started < 10
    assert journal["status"] == "interrupted"
    assert state.latency_s == 0
    assert "TTL (1 s)" in journal["extensions"][0]["stopped_because"]


def test_an_external_stop_interrupts_and_rolls_back(service: tuple[str, LatencyService]) -> None:
    base, state = service
    control = RunControl()
    control.stop("an operator said so")
    journal = _run(latency_experiment(base, latency_ms=10, tolerance_s=1), control=control)
    assert journal["status"] == "interrupted"
    assert journal["run"] == []  # stopped before the method began
    assert state.calls == ["POST /latency 0"]  # only the rollback (strategy always)


def test_a_target_outside_the_blast_radius_refuses_the_run_before_anything(
    service: tuple[str, LatencyService],
) -> None:
    base, state = service
    data = latency_experiment(
        base,
        latency_ms=10,
        tolerance_s=1,
        extensions=[{"name": "srekit", "blast_radius": {"allowed_targets": ["127.0.0.1:1"]}}],
    )
    with pytest.raises(SpecError, match="outside the blast radius") as refused:
        _run(data)
    assert "'add-latency' targets " + base + "/latency" in str(refused.value)
    assert state.calls == []


def test_an_unknown_module_is_refused_and_the_error_names_trust(
    service: tuple[str, LatencyService],
) -> None:
    base, state = service
    experiment = parse_experiment(
        latency_experiment(base, latency_ms=10, tolerance_s=1), file="e.yaml", environ={}
    )
    journal = run_experiment(experiment)  # an empty allow-list
    before = journal["steady_states"]["before"]
    assert before["steady_state_met"] is False
    assert "not in the allow-list" in before["probes"][0]["exception"][0]
    assert "--trust" in before["probes"][0]["exception"][0]
    assert journal["status"] == "failed"
    assert "POST /latency 10" not in state.calls  # the method never ran
