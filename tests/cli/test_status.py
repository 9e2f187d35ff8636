"""`srekit status`: bad input, Prometheus unreachable, and the bundled logs' figures checked
against a plain-Python count.

The expectation parses the same gzip'd nginx logs line by line, independently of DuckDB, and
counts good and total events per window.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srekit.cli.main import app
from tests.cli.conftest import EXAMPLES, run, status_by_slo

AT = datetime(2026, 11, 19, 12, tzinfo=UTC)
_LINE = re.compile(r'\[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "[^"]*" "[^"]*" (\S+)$')


Event = tuple[datetime, str, int, float]  # when, path, status, duration (s)


def _events(service: str) -> list[Event]:
    events = []
    with gzip.open(EXAMPLES / "logs" / f"{service}.access.log.gz", "rt") as lines:
        for line in lines:
            match = _LINE.search(line.rstrip("\n"))
            if match is None:  # the bundled checkout log holds two truncated lines on purpose
                continue
            moment = datetime.strptime(match.group(1), "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
            events.append((moment, match.group(3), int(match.group(4)), float(match.group(5))))
    return events


def _expected(
    service: str, seconds: int, good: Callable[[Event], bool], total: Callable[[Event], bool]
) -> tuple[int, int]:
    start = AT - timedelta(seconds=seconds)
    chosen = [e for e in _events(service) if start <= e[0] < AT and total(e)]
    return sum(1 for e in chosen if good(e)), len(chosen)


@pytest.mark.parametrize("at", ["yesterday", "2026-11-20T00:00:00"])
def test_bad_at_is_bad_input(at: str) -> None:
    code, _, err = run("status", "-f", EXAMPLES / "prometheus", "--at", at)
    assert code == 2
    assert "--at" in err


def test_status_without_prometheus_reports_error_state_and_exits_3() -> None:
    """Figures that could not be read are not a success: exit 3, the reason on stderr."""
    code, out, err = run(
        "status",
        "-f",
        EXAMPLES / "prometheus",
        "--format",
        "json",
        "--at",
        "2026-11-20T00:00:00Z",
        env={"SREKIT_PROMETHEUS_URL": ""},
    )
    assert code == 3
    assert "could not be read" in err
    statuses = json.loads(out)
    assert {s["data"] for s in statuses} == {"error"}
    assert "no Prometheus URL" in statuses[0]["detail"]
    assert statuses[0]["at"] == "2026-11-20T00:00:00Z"


def test_checkout_figures_match_an_independent_count(home: dict[str, str]) -> None:
    statuses = status_by_slo(home)
    availability = statuses["checkout/availability"]

    def not_health(event: Event) -> bool:
        return not event[1].startswith("/health")

    good, total = _expected("checkout", 7 * 86400, lambda e: e[2] < 500, not_health)
    assert total > 1000
    assert availability["events"] == {"good": good, "total": total}
    assert availability["sli"] == pytest.approx(good / total, abs=1e-12)
    budget = availability["error_budget"]
    assert budget["allowed_bad_events"] == pytest.approx(0.005 * total)
    assert budget["consumed"] == pytest.approx((total - good) / total / 0.005)
    for label, seconds in (("1h", 3600), ("6h", 21600), ("1d", 86400), ("3d", 259200)):
        g, t = _expected("checkout", seconds, lambda e: e[2] < 500, not_health)
        expected = None if t == 0 else (t - g) / t / 0.005
        assert availability["burn_rates"][label] == pytest.approx(expected), label
    latency = statuses["checkout/latency"]
    g, t = _expected(
        "checkout", 7 * 86400, lambda e: e[3] <= 0.3, lambda e: e[2] < 500 and not_health(e)
    )
    assert latency["sli"] == pytest.approx(g / t, abs=1e-12)


def test_calendar_week_in_paris(home: dict[str, str]) -> None:
    catalog = status_by_slo(home)["catalog/availability"]
    # Monday 16 November 2026, 00:00 in Paris is 15 November 23:00 UTC.
    week_start = datetime(2026, 11, 15, 23, tzinfo=UTC)
    chosen = [e for e in _events("catalog") if week_start <= e[0] < AT]
    good = sum(1 for e in chosen if e[2] < 500)
    assert catalog["window"] == "week (Europe/Paris)"
    assert catalog["window_s"] == 7 * 86400
    assert catalog["sli"] == pytest.approx(good / len(chosen), abs=1e-12)


def test_timeslices_count_good_five_minute_slices(home: dict[str, str]) -> None:
    slo = status_by_slo(home)["catalog/good-minutes"]
    start = AT - timedelta(days=7)
    slices: dict[int, list[int]] = {}
    for moment, _, status, _ in _events("catalog"):
        if start <= moment < AT:
            bucket = int((moment - start).total_seconds()) // 300
            slices.setdefault(bucket, [0, 0])
            slices[bucket][1] += 1
            slices[bucket][0] += status < 500
    good_slices = sum(1 for g, t in slices.values() if g / t >= 0.99)
    assert slo["sli"] == pytest.approx(good_slices / len(slices), abs=1e-12)


def test_no_data_before_the_logs_begin(home: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app,
        [
            "status",
            "-f",
            str(EXAMPLES / "slos"),
            "--at",
            "2026-10-01T00:00:00Z",
            "--format",
            "json",
        ],
        env=home,
    )
    statuses = json.loads(result.stdout)
    assert {s["data"] for s in statuses} == {"no_data"}
    assert all(s["sli"] is None and s["policy_state"] == "unknown" for s in statuses)


def _port_nobody_listens_on() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("flag", "env", "named"),
    [
        (("--prometheus-url", "not a url"), {}, "--prometheus-url"),
        (("--prometheus-url", "ftp://prometheus:9090"), {}, "--prometheus-url"),
        (("--prometheus-url", "http://prometheus:9090/?x=1"), {}, "--prometheus-url"),
        ((), {"SREKIT_PROMETHEUS_URL": "prometheus:9090"}, "SREKIT_PROMETHEUS_URL"),
    ],
)
def test_a_prometheus_url_that_is_not_one_is_bad_input_at_once(
    flag: tuple[str, ...], env: dict[str, str], named: str
) -> None:
    started = time.monotonic()
    code, out, err = run(
        "status", "-f", EXAMPLES / "prometheus", "--at", "2026-11-20T00:00:00Z", *flag, env=env
    )
    assert (code, out) == (2, "")
    assert named in err
    assert "expected an http:// or https:// URL" in err
    assert time.monotonic() - started < 2  # refused, not retried


def test_an_unreachable_prometheus_is_said_in_words_and_exits_3() -> None:
    url = f"http://127.0.0.1:{_port_nobody_listens_on()}"
    code, _, err = run(
        "status",
        "-f",
        EXAMPLES / "prometheus",
        "--at",
        "2026-11-20T00:00:00Z",
        "--prometheus-url",
        url,
    )
    assert code == 3
    assert f"Prometheus at {url} cannot be reached: connection refused" in " ".join(err.split())
    assert "rollup instants" not in err


def test_an_unknown_service_is_bad_input(home: dict[str, str]) -> None:
    code, out, err = run(
        "status",
        "-f",
        EXAMPLES / "slos",
        "--at",
        "2026-11-19T12:00:00Z",
        "--service",
        "nosuch",
        env=home,
    )
    assert (code, out) == (2, "")
    assert "--service: no SLO in the specs belongs to 'nosuch' (services: catalog, checkout)" in (
        " ".join(err.split())
    )


def test_one_service_is_evaluated_alone(home: dict[str, str]) -> None:
    code, out, _ = run(
        "status",
        "-f",
        EXAMPLES / "slos",
        "--at",
        "2026-11-19T12:00:00Z",
        "--service",
        "checkout",
        "--format",
        "json",
        env=home,
    )
    assert code == 0
    assert {s["service"] for s in json.loads(out)} == {"checkout"}


def test_no_data_anywhere_is_not_a_success(home: dict[str, str]) -> None:
    code, out, err = run(
        "status",
        "-f",
        EXAMPLES / "slos",
        "--at",
        "2020-01-01T00:00:00Z",
        "--format",
        "json",
        env=home,
    )
    assert code == 3
    assert {s["data"] for s in json.loads(out)} == {"no_data"}
    assert "none of the 4 SLO(s) had SLI data in its window" in " ".join(err.split())


def test_a_future_instant_is_refused() -> None:
    code, out, err = run("status", "-f", EXAMPLES / "slos", "--at", "2999-01-01T00:00:00Z")
    assert (code, out) == (2, "")
    assert "--at: 2999-01-01T00:00:00Z is in the future" in " ".join(err.split())


@pytest.mark.parametrize("command", ["status", "validate"])
def test_an_empty_file_or_a_directory_without_specs_is_an_error(
    tmp_path: Path, command: str
) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    elsewhere = tmp_path / "docs"
    elsewhere.mkdir()
    (elsewhere / "README.md").write_text("# not a spec")
    args = ["slo", "validate"] if command == "validate" else ["status"]
    for path in (empty, elsewhere):
        code, out, err = run(*args, "-f", path)
        assert code == 2, err
        # validate also checks alert routings, rotations and escalation policies
        found = (
            "no SLO, policy, alert routing, rotation or escalation policy"
            if command == "validate"
            else "no SLO or policy"
        )
        assert f"{found} found" in " ".join(err.split())
        assert "valid" not in out
