"""`load gate|baseline|import|results` through a Typer app of the tests' own (the commands
are registered on whatever app `srekit load` is), on SQLite and PostgreSQL; and once through
`srekit load` end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine
from typer.testing import CliRunner

from srekit.cli.load_gate import add_gate_commands
from tests.cli.conftest import EXAMPLES, run

runner = CliRunner()
load = typer.Typer()
add_gate_commands(load)

BASELINE = EXAMPLES / "load" / "baseline-summary.json"
CANDIDATE = EXAMPLES / "load" / "k6-summary.json"
LOCUST = EXAMPLES / "load" / "search_stats.csv"


class Load:
    def __init__(self, url: str, home: Path) -> None:
        self.env = {"SREKIT_DATABASE_URL": url, "SREKIT_HOME": str(home), "SREKIT_ACTOR": "ci"}

    def __call__(self, *args: str | Path) -> tuple[int, str, str]:
        result = runner.invoke(load, [str(a) for a in args], env={**self.env, "COLUMNS": "200"})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str | Path, code: int = 0) -> Any:
        exit_code, out, err = self(*args, "--format", "json")
        assert exit_code == code, (out, err)
        return json.loads(out)


@pytest.fixture
def cli(engine: Engine, empty_url: str, tmp_path: Path) -> Load:
    return Load(empty_url, tmp_path / "home")  # `engine` migrated the database at empty_url


def k6_export(p95: float, *, count: int = 1000, rate: float = 50.0, failed: int = 0) -> str:
    return json.dumps(
        {
            "metrics": {
                "http_req_duration": {"avg": p95 / 2, "med": p95 / 2, "p(95)": p95},
                "http_reqs": {"count": count, "rate": rate},
                "http_req_failed": {"passes": failed, "fails": count - failed},
            }
        }
    )


def test_import_baseline_and_gate_the_bundled_examples(cli: Load) -> None:
    imported = cli.json("import", "--service", "checkout", BASELINE)
    made = cli.json("baseline", "--service", "checkout", "--run", str(imported["id"]))
    assert (made["version"], made["run_id"], made["created_by"]) == (1, imported["id"], "ci")
    verdict = cli.json("gate", "--service", "checkout", CANDIDATE)
    assert (verdict["outcome"], verdict["passed"], verdict["baseline_version"]) == (
        "pass",
        True,
        1,
    )
    # figures read independently from the example files
    base = json.loads(BASELINE.read_text())["metrics"]
    now = json.loads(CANDIDATE.read_text())["metrics"]
    checks = {c["check"]: c for c in verdict["checks"]}
    p95 = checks["p95"]
    assert (p95["baseline"], p95["current"]) == (
        base["http_req_duration"]["p(95)"],
        now["http_req_duration"]["p(95)"],
    )
    assert p95["limit"] == pytest.approx(base["http_req_duration"]["p(95)"] * 1.2)
    errors = checks["error_rate"]
    assert errors["current"] == pytest.approx(
        now["http_req_failed"]["passes"] / now["http_reqs"]["count"], abs=1e-6
    )
    assert errors["limit"] == pytest.approx(errors["baseline"] + 0.01)
    throughput = checks["throughput"]
    assert throughput["limit"] == pytest.approx(base["http_reqs"]["rate"] * 0.9)
    assert checks["threshold http_req_duration: p(95)<300"]["outcome"] == "pass"
    results = cli.json("results", "--service", "checkout")
    assert [(r["id"], r["verdict"]) for r in results] == [
        (verdict["run_id"], "pass"),
        (imported["id"], None),
    ]
    code, out, _ = cli("results")
    assert code == 0
    assert "checkout" in out
    assert "pass" in out
    code, out, _ = cli("baseline", "--service", "checkout")
    assert (code, "v1" in out) == (0, True)


def test_a_regression_exits_1_with_its_table(cli: Load, tmp_path: Path) -> None:
    base, slow = tmp_path / "base.json", tmp_path / "slow.json"
    base.write_text(k6_export(100.0))
    slow.write_text(k6_export(130.0))  # +30 %
    run_id = cli.json("import", "--service", "api", base)["id"]
    cli.json("baseline", "--service", "api", "--run", str(run_id))
    code, out, _ = cli("gate", "--service", "api", slow)
    assert code == 1
    assert "api: fail against baseline v1" in out
    assert "+30 ms (+30.0%)" in out
    # with a looser limit the same run passes, and nothing is stored with --no-record
    code, out, err = cli(
        "gate", "--service", "api", slow, "--latency-increase", "0.5", "--no-record"
    )
    assert code == 0, (out, err)
    assert "recorded as run" not in out
    # against no baseline, p95 is judged by the absolute limit only
    code, out, _ = cli("gate", "--service", "api", slow, "--no-baseline", "--max-p95-ms", "120")
    assert code == 1
    assert "130 ms > 120 ms" in out


def test_inconclusive_fails_closed_unless_allowed(cli: Load, tmp_path: Path) -> None:
    few = tmp_path / "few.json"
    few.write_text(k6_export(10.0, count=40))
    verdict = cli.json("gate", "--service", "api", few, code=1)
    assert (verdict["outcome"], verdict["passed"]) == ("inconclusive", False)
    assert verdict["checks"][-2]["reason"] == "the run has 40 requests, fewer than 100"
    allowed = cli.json("gate", "--service", "api", few, "--allow-inconclusive")
    assert (allowed["outcome"], allowed["passed"]) == ("inconclusive", True)
    assert cli.json("gate", "--service", "api", few, "--min-samples", "10")["outcome"] == "pass"


def test_locust_results_and_rounding(cli: Load) -> None:
    verdict = cli.json(
        "gate", "--service", "search", LOCUST, "--no-baseline", "--max-p95-ms", "99", code=1
    )
    # the Aggregated row's 95% column is 100 ms: over 99 ms
    assert verdict["outcome"] == "fail"
    assert verdict["summary"]["tool"] == "locust"
    assert {
        m["rounded"] for m in verdict["summary"]["metrics"] if m["name"] == "http_req_duration"
    } == {True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gate", "--service", "api", "missing.json"), "missing.json: cannot read"),
        (("gate", "--service", "Bad", str(BASELINE)), "--service"),
        (("gate", "--service", "api", str(BASELINE), "--baseline", "3"), "no load-test baseline"),
        (
            ("gate", "--service", "api", str(BASELINE), "--baseline", "1", "--no-baseline"),
            "contradict",
        ),
        (("gate", "--service", "api", str(BASELINE), "--noise-floor-ms", "nan"), "noise-floor"),
        (("gate", "--service", "api", str(BASELINE), "--max-p95-ms", "inf"), "finite"),
        (
            ("gate", "--service", "api", str(BASELINE), "--throughput-drop", "2"),
            "--throughput-drop",
        ),
        (("baseline", "--service", "api", "--run", "99"), "no load-test run 99"),
        (("results", "--service", "a\tb"), "--service"),
    ],
)
def test_bad_input_exits_2(cli: Load, args: tuple[str, ...], message: str) -> None:
    code, out, err = cli(*args)
    assert code == 2, (out, err)
    assert message in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"metrics": {"http_reqs": {"count": NaN}}}', "expected finite numbers, got NaN"),
        ('{"metrics": {"http_reqs": {"count": 1e309}}}', "metrics.http_reqs.count"),
        ('{"metrics": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ("Type,Name\n", "missing Request Count"),
        ("\x00\x01", "expected k6 JSON"),
    ],
)
def test_hostile_files_exit_2(cli: Load, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    for command in ("gate", "import"):
        code, out, err = cli(command, "--service", "api", path)
        assert code == 2, (out, err)
        assert f"{path}: " in err
        assert message in err
    assert cli.json("results") == []  # nothing stored


def test_srekit_load_end_to_end(tmp_path: Path) -> None:
    env = {"SREKIT_HOME": str(tmp_path / "home"), "SREKIT_DATABASE_URL": ""}
    assert run("db", "upgrade", env=env)[0] == 0
    code, out, err = run("load", "gate", "--service", "checkout", str(CANDIDATE), env=env)
    assert code == 0, (out, err)
    assert "checkout: pass against absolute limits (no baseline)" in out


def test_srekit_gate_requires_a_passed_load_test_when_configured(
    home: dict[str, str], tmp_path: Path
) -> None:
    """`srekit gate` from spec files: checkout is allowed on its budget at the instant asked;
    with SREKIT_GATE_LOAD_TEST_FOR=feature it needs a load test passed before that instant."""
    env = {
        **home,
        "SREKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'gate.db'}",
        "SREKIT_PROMETHEUS_URL": "",
    }
    assert run("db", "upgrade", env=env)[0] == 0
    asked = ("gate", "-f", str(EXAMPLES / "slos"), "--service", "checkout", "--change-type")
    at = ("--at", "2026-11-19T12:00:00Z", "--format", "json")
    code, out, _ = run(*asked, "feature", *at, env=env)
    assert (code, json.loads(out)["allowed"]) == (0, True)  # the budget alone allows
    required = {**env, "SREKIT_GATE_LOAD_TEST_FOR": "feature"}
    code, out, _ = run(*asked, "feature", *at, env=required)
    assert code == 1
    assert json.loads(out)["reasons"][0] == (
        "feature deploys need a passed load test and checkout has none in the last 7 days"
    )
    assert run(*asked, "config", *at, env=required)[0] == 0  # not required for config
    # a run passed now (after the instant asked) does not count as of that instant...
    code, out, err = run("load", "gate", "--service", "checkout", str(CANDIDATE), env=env)
    assert code == 0, (out, err)
    assert run(*asked, "feature", *at, env=required)[0] == 1
    # ...and does as of now
    code, out, _ = run(*asked, "feature", "--format", "json", env=required)
    assert "feature deploys need a passed load test" not in out


def test_a_row_per_request_name_in_the_table(cli: Load, tmp_path: Path) -> None:
    slower = tmp_path / "slower_stats.csv"
    lines = LOCUST.read_text().splitlines()
    lines[2] = lines[2].replace(",21,26,35,", ",21,40,35,")  # /suggest: 95% 26 → 40 ms
    slower.write_text("\n".join(lines) + "\n")
    run_id = cli.json("import", "--service", "search", LOCUST)["id"]
    cli.json("baseline", "--service", "search", "--run", str(run_id))
    code, out, _ = cli("gate", "--service", "search", slower, "--no-record")
    assert code == 1
    rows = [line.split() for line in out.splitlines()]
    suggest = [r[:12] for r in rows if r[:2] == ["p95", "method:GET,name:/suggest"]]
    # 26 ms × 1.2 = 31.2 ms; +14 ms is +53.8 % over the baseline (the reason folds after it)
    assert suggest == [
        ["p95", "method:GET,name:/suggest", "fail", "40", "ms", "26", "ms", "31.2", "ms", "+14",
         "ms", "(+53.8%)"]
    ]  # fmt: skip
    whole = [r for r in rows if r[:2] == ["p95", "-"]]
    assert [r[2] for r in whole] == ["pass"]
