"""The blast radius (what each kind of activity targets, which targets a declared radius lets
through), and what a journal says of deviations and passing: hand-written cases."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from srekit.core.chaos import (
    Activity,
    ActivityType,
    Experiment,
    HttpProvider,
    Hypothesis,
    ProbeTolerance,
    ProcessProvider,
    PythonProvider,
    SrekitExtension,
    activity_targets,
    deviations_of,
    freeze,
    outside_blast_radius,
    passed,
)


def _action(name: str, provider: HttpProvider | ProcessProvider | PythonProvider) -> Activity:
    return Activity(ActivityType.ACTION, name, provider)


def test_targets_of_each_provider_kind() -> None:
    assert activity_targets(_action("a", HttpProvider("http://127.0.0.1:8474/proxies"))) == (
        "http://127.0.0.1:8474/proxies",
    )
    curl = ProcessProvider("/usr/bin/curl", ("-s", "http://shop:8080/", "-o", "/dev/null"))
    assert activity_targets(_action("b", curl)) == ("http://shop:8080/",)
    assert activity_targets(_action("c", ProcessProvider("pkill", "-TERM checkout"))) == (
        "checkout",
    )
    kubectl = ProcessProvider("kubectl", ("delete", "pod", "checkout-7d9"))
    assert activity_targets(_action("d", kubectl)) == ("checkout-7d9",)
    assert activity_targets(_action("e", ProcessProvider("kill", ()))) == ()
    python = PythonProvider(
        "m",
        "f",
        freeze({"url": "https://api.example/x", "retries": 3, "more": ["ftp://h/f", "text"]}),
    )
    assert activity_targets(_action("f", python)) == ("https://api.example/x", "ftp://h/f")
    judge = _action("judge", HttpProvider("http://judge:9000/"))
    judged = Activity(
        ActivityType.PROBE,
        "g",
        HttpProvider("http://shop:8080/health"),
        tolerance=ProbeTolerance(judge),
    )
    assert activity_targets(judged) == ("http://shop:8080/health", "http://judge:9000/")


@pytest.mark.parametrize(
    ("target", "allowed", "inside"),
    [
        ("http://127.0.0.1:8080/health", ("127.0.0.1:8080",), True),
        ("http://127.0.0.1:8081/health", ("127.0.0.1:8080",), False),
        ("http://shop/health", ("shop:80",), True),  # the scheme's default port
        ("https://shop/health", ("shop:80",), False),
        ("https://shop/health", ("shop",), True),  # a host alone allows every port
        ("http://shop:8080/api/v1", ("http://shop:8080/api",), True),
        ("http://shop:8080/api?x=1", ("http://shop:8080/api/",), True),
        ("http://shop:8080/api", ("http://shop:8080/api",), True),
        ("http://shop:8080/apiary", ("http://shop:8080/api",), False),
        ("http://shop:99999999/", ("shop",), False),  # a port no URL has: never inside
        ("checkout", ("checkout",), True),
        ("checkout", ("checkout-2",), False),
    ],
)
def test_which_targets_a_radius_allows(target: str, allowed: tuple[str, ...], inside: bool) -> None:
    experiment = Experiment(
        "t",
        "d",
        method=(
            _action(
                "hit",
                HttpProvider(target) if "://" in target else ProcessProvider("pkill", (target,)),
            ),
        ),
        srekit=SrekitExtension(allowed_targets=allowed),
    )
    assert outside_blast_radius(experiment) == (() if inside else (("hit", target),))


def test_every_phase_is_checked_and_no_radius_means_no_refusal() -> None:
    probe = Activity(ActivityType.PROBE, "p", HttpProvider("http://a:1/"))
    method = (_action("m", HttpProvider("http://b:2/")), _action("m", HttpProvider("http://b:2/")))
    experiment = Experiment(
        "t",
        "d",
        method=method,
        hypothesis=Hypothesis("h", (probe,)),
        rollbacks=(_action("r", HttpProvider("http://c:3/")),),
        srekit=SrekitExtension(allowed_targets=("a:1",)),
        document=MappingProxyType({}),
    )
    # each (activity, target) once, in the order of the run
    assert outside_blast_radius(experiment) == (("m", "http://b:2/"), ("r", "http://c:3/"))
    assert outside_blast_radius(Experiment("t", "d", method=method)) == ()


def _probe_run(name: str, met: bool | None) -> dict[str, object]:
    return {"activity": {"name": name}, "tolerance_met": met}


def test_deviations_name_the_missed_probes_during_then_after() -> None:
    journal = {
        "status": "completed",
        "deviated": True,
        "steady_states": {
            "before": {"probes": [_probe_run("before-only", False)]},  # a precondition
            "during": [
                {"probes": [_probe_run("up", True)]},
                {"probes": [_probe_run("up", True), _probe_run("fast", False)]},
                None,
            ],
            "after": {"probes": [_probe_run("up", None), _probe_run("fast", False)]},
        },
    }
    assert deviations_of(journal) == ("during[1]: fast", "after: fast")
    assert deviations_of({}) == ()
    assert not passed(journal)
    assert passed({"status": "completed", "deviated": False})
    assert not passed({"status": "interrupted", "deviated": False})
    assert not passed({"status": "completed"})
