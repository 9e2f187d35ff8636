"""`srekit load run --record|--baseline|--gate` end to end: a local server, a real store on
SQLite and PostgreSQL. A run stored directly is the summary `load import` stores from the run's
own file, its percentiles those of its HDR histograms; `--gate` exits with the gate's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hdrh.histogram import HdrHistogram
from sqlalchemy import Engine

from tests.cli.conftest import Cli
from tests.cli.test_load import _spec as spec_file
from tests.loadgen.target import Target, serve_target

#: ~150 requests after the warm-up, a quarter of them logins
LOAD = "{executor: constant-arrival-rate, rate: 100, duration: 1700ms}"
LOGIN_MAX = "{'http_req_duration{name:login}': ['max<5000']}"


@pytest.fixture
def cli(engine: Engine, empty_url: str, tmp_path: Path) -> Cli:
    return Cli(empty_url, tmp_path / "home")  # `engine` migrated the database at empty_url


def _spec(tmp_path: Path, url: str, thresholds: str = "{}") -> Path:
    """A run of ~150 requests; per-tag figures only for the sub-metrics `thresholds` name."""
    return spec_file(tmp_path, url=url, load=LOAD, thresholds=thresholds)


def _json(cli: Cli, *args: str | Path, code: int = 0) -> Any:
    exit_code, out, err = cli(*args, "--format", "json")
    assert exit_code == code, (out, err)
    return json.loads(out)


def _percentile_ms(document: dict[str, Any], percentile: float) -> float:
    """The percentile read straight from the run's histoblobs (µs), in ms."""
    merged = HdrHistogram(1, 3_600_000_000, 3)
    for series in document["series"]:
        if "http_req_duration" in series["histograms"]:
            merged.decode_and_add(series["histograms"]["http_req_duration"])
    return float(merged.get_value_at_percentile(percentile)) / 1000


def test_a_recorded_run_is_what_importing_its_file_stores(cli: Cli, tmp_path: Path) -> None:
    with serve_target(Target(latency_s=0.01)) as target:
        spec = _spec(tmp_path, target.url, LOGIN_MAX)
        run = _json(
            cli, "load", "run", spec, "--workers", "1", "--service", "api", "--baseline",
            "-o", tmp_path / "run.json",
        )  # fmt: skip
    assert run["recorded"] == {
        "service": "api", "run_id": 1, "baseline_version": 1, "gate": None
    }  # fmt: skip
    imported = _json(cli, "load", "import", "--service", "api", tmp_path / "run.json")
    assert imported["id"] == 2
    recorded, again = _json(cli, "load", "results", "--service", "api")[::-1]
    assert recorded["id"] == 1
    assert recorded["summary"] == again["summary"]  # one reader, one way of storing
    assert (recorded["tool"], recorded["source"]) == ("srekit", "load.yaml")
    summary = recorded["summary"]
    figures = {(m["name"], tuple(sorted(m["tags"].items()))): m for m in summary["metrics"]}
    trend = figures[("http_req_duration", ())]
    file = json.loads((tmp_path / "run.json").read_text())
    assert trend["p95"] == pytest.approx(_percentile_ms(file, 95), abs=1e-9)
    assert trend["p99"] == pytest.approx(_percentile_ms(file, 99), abs=1e-9)
    assert trend["count"] == file["metrics"]["http_reqs"]["count"] == summary["requests"]
    assert 10 <= trend["p95"] < 1000  # the server answers after 10 ms
    logins = sum(s["requests"] for s in file["series"] if s["tags"].get("name") == "login")
    assert figures[("http_req_duration", (("name", "login"),))]["count"] == logins
    assert summary["thresholds"] == [
        {"metric": "http_req_duration{name:login}", "expression": "max<5000", "ok": True}
    ]
    baselines = _json(cli, "load", "baseline", "--service", "api")
    assert [(b["version"], b["run_id"]) for b in baselines] == [(1, 1)]


def test_gate_judges_the_run_against_the_baseline_with_its_exit_code(
    cli: Cli, tmp_path: Path
) -> None:
    with serve_target(Target(latency_s=0.05)) as target:
        spec = _spec(tmp_path, target.url)
        code, out, err = cli("load", "run", spec, "--workers", "1", "--service", "api", "--gate")
        assert code == 0, (out, err)  # no baseline yet: absolute limits, which it meets
        assert "api: pass against absolute limits (no baseline)" in out
        assert "recorded as run 1" in out
        code, _, err = cli("load", "baseline", "--service", "api", "--run", "1")
        assert code == 0, err
        same = _json(cli, "load", "run", spec, "--workers", "1", "--service", "api", "--gate")
    assert same["recorded"]["gate"]["outcome"] == "pass"
    assert same["recorded"]["gate"]["baseline_version"] == 1
    with serve_target(Target(latency_s=0.15)) as slower:
        spec = _spec(tmp_path, slower.url)
        slow = _json(
            cli, "load", "run", spec, "--workers", "1", "--service", "api", "--gate", "--baseline",
            code=1,
        )  # fmt: skip
    verdict = slow["recorded"]["gate"]
    assert (verdict["outcome"], verdict["passed"], verdict["run_id"]) == ("fail", False, 3)
    p95 = next(c for c in verdict["checks"] if c["check"] == "p95" and not c.get("tags"))
    # 150 ms against a ~50 ms baseline: far above 20 % and the 2 ms floor
    assert p95["outcome"] == "fail"
    assert p95["current"] == pytest.approx(_percentile_ms(slow, 95), abs=1e-9)
    assert p95["current"] > p95["baseline"] * 1.2
    assert slow["recorded"]["baseline_version"] is None  # a failed run is no baseline
    stored = _json(cli, "load", "results", "--service", "api")
    assert [(r["id"], r["verdict"]) for r in stored] == [(3, "fail"), (2, "pass"), (1, "pass")]


def test_bad_combinations_exit_2_and_a_run_without_success_stores_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, "http://127.0.0.1:9")
    code, _, err = cli("load", "run", spec, "--gate")
    assert code == 2
    assert "name its --service" in err
    code, _, err = cli("load", "run", spec, "--service", "api")
    assert code == 2
    assert "add --record" in err
    code, _, err = cli("load", "run", spec, "--service", "bad name!", "--record")
    assert code == 2
    code, _, err = cli("load", "run", spec, "--workers", "1", "--service", "api", "--record")
    assert code == 1
    assert "no request succeeded; nothing stored" in err
    assert _json(cli, "load", "results", "--service", "api") == []


def _gated(cli: Cli, spec: Path, *options: str, code: int) -> dict[str, Any]:
    """`load run --gate` with the rule `options`: the gate's verdict, the exit code checked."""
    document = _json(
        cli, "load", "run", spec, "--workers", "1", "--service", "api", "--gate", *options,
        code=code,
    )  # fmt: skip
    verdict: dict[str, Any] = document["recorded"]["gate"]
    assert verdict["passed"] is (code == 0)
    return verdict


def _row(verdict: dict[str, Any], check: str) -> dict[str, Any]:
    row: dict[str, Any] = next(
        c for c in verdict["checks"] if c["check"] == check and not c.get("tags")
    )
    return row


def test_the_rule_options_change_the_verdict_of_a_run(cli: Cli, tmp_path: Path) -> None:
    with serve_target(Target(latency_s=0.05)) as target:
        spec = _spec(tmp_path, target.url)
        baseline = _json(cli, "load", "run", spec, "--workers", "1", "--service", "api",
                         "--baseline")  # fmt: skip
        base_p95 = _percentile_ms(baseline, 95)
        # ~150 requests: fewer than the 100,000 asked is inconclusive, which fails closed,
        # and passes when inconclusive runs are allowed
        few = _gated(cli, spec, "--min-samples", "100000", code=1)
        assert few["outcome"] == "inconclusive"
        allowed = _gated(cli, spec, "--min-samples", "100000", "--allow-inconclusive", code=0)
        assert allowed["outcome"] == "inconclusive"
    with serve_target(Target(latency_s=0.15)) as slower:
        spec = _spec(tmp_path, slower.url)
        # 150 ms against ~50 ms: by default (20 %) a regression ...
        default = _gated(cli, spec, code=1)
        assert _row(default, "p95")["outcome"] == "fail"
        assert _row(default, "p95")["limit"] == pytest.approx(base_p95 * 1.2, abs=1e-6)
        # ... and within a 300 % increase: the same run passes
        loose = _gated(cli, spec, "--latency-increase", "3", code=0)
        p95 = _row(loose, "p95")
        assert (p95["outcome"], p95["baseline"]) == ("pass", pytest.approx(base_p95, abs=1e-6))
        assert p95["limit"] == pytest.approx(base_p95 * 4, abs=1e-6)
        assert base_p95 * 1.2 < p95["current"] <= base_p95 * 4
    stored = _json(cli, "load", "results", "--service", "api")
    assert [r["verdict"] for r in stored] == ["pass", "fail", "inconclusive", "inconclusive", None]
