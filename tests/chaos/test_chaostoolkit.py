"""Chaos Toolkit itself (chaostoolkit-lib) against srekit: the same experiment run by both
against a real service gives journals with the same keys at every level (srekit writes
`srekit-version` where chaoslib writes `chaoslib-version`) and the same verdict; chaoslib's
own validation accepts srekit's examples and every scenario srekit generates, and imports
the srekit.chaos functions they name (chaoslib checks a python provider's module, function
and arguments)."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.experiment import run_experiment as chaoslib_run
from chaoslib.hypothesis import within_tolerance

from srekit.core.chaos import DryMode, tolerance_met
from srekit.core.chaos_scenarios import SCENARIOS, build_scenario
from srekit.flows.chaos import run_experiment
from srekit.spec.chaos import parse_experiment
from tests.flows.chaos_service import PROBES_MODULE, latency_experiment, latency_service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "chaos"


@pytest.fixture(autouse=True)
def _quiet_chaoslib() -> Iterator[None]:
    logger = logging.getLogger("chaostoolkit")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def _shape(journal: dict[str, Any]) -> dict[str, list[str]]:
    states = journal["steady_states"]
    return {
        "journal": sorted(journal),
        "steady_states": sorted(states),
        "hypothesis": sorted(states["before"]),
        "probe": sorted(states["before"]["probes"][0]),
        "run": sorted(journal["run"][0]),
        "rollback": sorted(journal["rollbacks"][0]),
    }


@pytest.mark.parametrize(("latency_ms", "deviated"), [(0, False), (800, True)])
def test_both_runners_write_the_same_journal_and_verdict(latency_ms: int, deviated: bool) -> None:
    with latency_service() as (base, state):
        data = latency_experiment(base, latency_ms=latency_ms, tolerance_s=0.5)
        ensure_experiment_is_valid(json.loads(json.dumps(data)))
        theirs = chaoslib_run(json.loads(json.dumps(data)))
        assert state.latency_s == 0  # chaoslib rolled back too
        ours = run_experiment(
            parse_experiment(data, file="e.yaml", environ={}), python_allowed=(PROBES_MODULE,)
        )
    expected = _shape(theirs)
    expected["journal"] = sorted(
        "srekit-version" if key == "chaoslib-version" else key for key in expected["journal"]
    )
    assert _shape(ours) == expected
    assert (theirs["status"], theirs["deviated"]) == ("completed", deviated)
    assert (ours["status"], ours["deviated"]) == ("completed", deviated)
    both = (theirs, ours)
    met = [j["steady_states"]["after"]["probes"][0]["tolerance_met"] for j in both]
    assert met == [not deviated, not deviated]


def _examples() -> list[dict[str, Any]]:
    found = [
        dict(yaml.safe_load((EXAMPLES / name).read_text()))
        for name in ("smoke.yaml", "checkout-latency.yaml")
    ]
    targets = {"network": "payments", "dependency": "db", "process": "checkout", "resource": "cpu"}
    # chaoslib checks that a process provider's executable exists: only the installed ones
    installed = tuple(tool for tool in ("kubectl", "stress-ng") if shutil.which(tool))
    for tools in ((), installed):
        for scenario in SCENARIOS:
            for kind in ("cpu", "memory") if scenario.name == "resource" else ("",):
                target = kind or targets[scenario.name]
                parameters = {"slo": "checkout/availability"}
                found.append(
                    build_scenario(scenario.name, target=target, parameters=parameters, tools=tools)
                )
    return found


def test_chaoslib_validates_srekits_examples_and_scenarios(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHECKOUT_TOKEN", "t")  # checkout-latency.yaml's secret, from the env
    experiments = _examples()
    assert len(experiments) == 2 + 2 * 5
    for experiment in experiments:
        ensure_experiment_is_valid(experiment)  # raises InvalidExperiment otherwise
        parse_experiment(experiment, file="e.yaml", environ={"CHECKOUT_TOKEN": "t"})


def test_chaoslib_judges_the_examples_steady_state_as_srekit_does() -> None:
    """checkout-latency.yaml's probes say "usable" with a status both runners read the same
    way (a JSONPath tolerance would need chaoslib's optional jsonpath2, with its own grammar)."""
    experiment = yaml.safe_load((EXAMPLES / "checkout-latency.yaml").read_text())
    parsed = parse_experiment(experiment, file="e.yaml", environ={"CHECKOUT_TOKEN": "t"})
    for probe, ours in zip(
        experiment["steady-state-hypothesis"]["probes"], parsed.probes, strict=True
    ):
        for status, met in ((200, True), (204, probe["tolerance"] != 200), (503, False)):
            output = {"status": status, "headers": {}, "body": "degraded"}
            assert within_tolerance(probe["tolerance"], output) is met
            assert ours.tolerance is not None
            assert tolerance_met(ours.tolerance, output) is met


@pytest.mark.parametrize("mode", ["actions", "probes", "activities"])
def test_both_runners_walk_a_dry_run_alike(mode: str) -> None:
    """The experiment that deviates (800 ms added against a 0.5 s tolerance), run dry by
    both: chaoslib with its `Dry` flag, srekit with `DryMode`. The same verdict and the same
    activities called (the service's own log of what reached it), each skipped activity
    succeeding with no output."""
    from chaoslib.types import Dry

    verdicts = []
    called = []
    outputs = []
    for runner in ("chaoslib", "srekit"):
        with latency_service() as (base, state):
            data = latency_experiment(base, latency_ms=800, tolerance_s=0.5, pause_after_s=1.0)
            if runner == "chaoslib":
                journal = chaoslib_run({**json.loads(json.dumps(data)), "dry": Dry(mode)})
            else:
                journal = run_experiment(
                    parse_experiment(data, file="e.yaml", environ={}),
                    python_allowed=(PROBES_MODULE,),
                    dry=DryMode(mode),
                )
            calls = sorted({call.split("?")[0] for call in state.calls})
        verdicts.append((journal["status"], journal["deviated"]))
        called.append(calls)
        outputs.append(
            [
                (run["status"], run["output"] is None)
                for run in journal["run"] + journal["rollbacks"]
            ]
        )
    assert verdicts[0] == verdicts[1] == ("completed", False)
    assert called[0] == called[1]
    assert outputs[0] == outputs[1]
    skipped_actions = mode in ("actions", "activities")
    injected = any(call.startswith("POST /latency") for call in called[1])
    assert injected is not skipped_actions
