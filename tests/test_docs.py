"""The commands in the README and docs/ run as written (```console blocks, `$ srekit ...`).

They run in order per file, against an event store holding the bundled logs, in a scratch
`SREKIT_HOME`; paths under `.srekit/` are redirected there. A command is expected to exit 0, or
the code its line states in a trailing `# exit N` comment. The pages in `PROMETHEUS_PAGES` run
against a real Prometheus serving the data they show (`SREKIT_PROMETHEUS_URL`): canary.md the
shop's canary history of `tests/canary_data.py`, backfilled.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from srekit.cli.main import app
from tests.canary_data import serve_canary_history

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)
#: Pages whose commands read Prometheus: the fixture serving what they show.
PROMETHEUS_PAGES = {"canary.md": "canary_prometheus"}


@pytest.fixture(scope="module")
def canary_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Prometheus serving the shop's canary history (docs/canary.md)."""
    with serve_canary_history(tmp_path_factory.mktemp("canary-prometheus")) as backfilled:
        yield backfilled.url


def _prometheus_for(page: str, request: pytest.FixtureRequest) -> dict[str, str]:
    fixture = PROMETHEUS_PAGES.get(page)
    return {} if fixture is None else {"SREKIT_PROMETHEUS_URL": request.getfixturevalue(fixture)}


class _Step(NamedTuple):
    """One `$ ...` line of a console block: a srekit command (its arguments, the exit code its
    `# exit N` comment states) with the output lines shown under it, or an `export X=Y`."""

    args: list[str]
    exit_code: int
    shown: list[str]
    export: tuple[str, str] | None = None


def _steps(page: Path) -> list[_Step]:
    steps: list[_Step] = []
    for block in _BLOCK.findall(page.read_text()):
        for line in block.splitlines():
            if line.startswith("$ export "):
                name, _, value = line[len("$ export ") :].partition(" #")[0].strip().partition("=")
                steps.append(_Step([], 0, [], (name, value)))
            elif line.startswith("$ srekit "):
                command, _, comment = line[2:].partition(" # ")
                expected = int(comment.split()[1]) if comment.startswith("exit ") else 0
                steps.append(_Step(shlex.split(command)[1:], expected, []))
            elif line.startswith("$ "):
                steps.append(_Step([], 0, []))  # another program: shown, not run
            elif steps and steps[-1].args and line.strip():
                steps[-1].shown.append(line.rstrip())
    return steps


def _commands(page: Path) -> list[tuple[list[str], int]]:
    return [(step.args, step.exit_code) for step in _steps(page) if step.args]


def _home_with_the_logs(home: Path) -> dict[str, str]:
    """The environment of a scratch state directory holding the bundled logs as written."""
    env = {"SREKIT_HOME": str(home), "SREKIT_PROMETHEUS_URL": ""}
    for service in ("checkout", "catalog"):
        log = f"examples/logs/{service}.access.log.gz"
        ingested = CliRunner().invoke(app, ["events", "ingest", log, "--service", service], env=env)
        assert ingested.exit_code == 0, ingested.output
    return env


def _run_steps(page: Path, steps: list[_Step], env: dict[str, str], scratch: Path) -> None:
    """Run the steps in order; each command's exit code, and the lines shown under it (in
    their order, as whole lines of what it printed), must be what the page says."""
    runner = CliRunner()
    for step in steps:
        if step.export is not None:
            name, value = step.export
            env[name] = str(scratch / value) if name == "SREKIT_HOME" else value
            continue
        if not step.args:
            continue
        args = [a.replace(".srekit/", f"{env['SREKIT_HOME']}/") for a in step.args]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == step.exit_code, f"srekit {' '.join(args)}\n{result.output}"
        assert "Traceback" not in result.output
        printed = [line.rstrip() for line in result.output.splitlines()]
        position = 0
        for line in step.shown:
            assert line in printed[position:], (
                f"{page.name}: srekit {' '.join(args)} shows {line!r}; it printed:\n"
                + "\n".join(printed)
            )
            position = printed.index(line, position) + 1


def test_shown_figures_are_pinned_in_time() -> None:
    """A page that shows what an evaluation prints names its instant (`--at`): figures as of
    now differ from one machine, and one hour, to the next. Bad input (exit 2) evaluates
    nothing."""
    evaluations = [
        (page.name, step.args)
        for page in DOCS
        for step in _steps(page)
        if step.shown and step.args[0] in ("status", "gate") and step.exit_code != 2
    ]
    evaluations += [
        (page, shlex.split(command)[1:])
        for page, command, _ in _shown_outputs()
        if shlex.split(command)[1] in ("status", "gate")
    ]
    assert len(evaluations) >= 5
    assert [(page, args) for page, args in evaluations if "--at" not in args] == []


def test_every_page_with_commands_is_covered() -> None:
    assert {p.name for p in DOCS if _commands(p)} >= {
        "README.md",
        "specs.md",
        "status.md",
        "rules.md",
        "gate.md",
    }


@pytest.mark.parametrize(
    "page", [p for p in DOCS if _commands(p) and p.name != "README.md"], ids=lambda p: p.name
)
def test_documented_commands_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.chdir(ROOT)
    env = {**_home_with_the_logs(tmp_path), **_prometheus_for(page.name, request)}
    _run_steps(page, _steps(page), env, tmp_path)


def test_the_readme_tour_runs_after_make_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tour as a newcomer follows it: after `make run` (its demo: the logs replayed to end
    now, the example SLOs stored), in order, each shown output as printed."""
    monkeypatch.chdir(ROOT)
    home = tmp_path / "project" / ".srekit"
    env = {"SREKIT_HOME": str(home), "SREKIT_PROMETHEUS_URL": ""}
    demo = CliRunner().invoke(app, ["demo", "--examples", "examples"], env=env)
    assert demo.exit_code == 0, demo.output
    steps = _steps(ROOT / "README.md")
    assert sum(1 for step in steps if step.shown) >= 3  # the tour shows what it prints
    _run_steps(ROOT / "README.md", steps, env, tmp_path / "project")


_SHOWN_OUTPUT = re.compile(r"<!-- output of: (srekit [^\n]*?) -->\n```json\n(.*?)```", re.DOTALL)


def _shown_outputs() -> list[tuple[str, str, str]]:
    return [
        (page.name, command, shown)
        for page in DOCS
        for command, shown in _SHOWN_OUTPUT.findall(page.read_text())
    ]


def test_pages_show_json_outputs() -> None:
    assert {page for page, _, _ in _shown_outputs()} >= {"status.md"}


@pytest.mark.parametrize(
    ("page", "command", "shown"), _shown_outputs(), ids=lambda value: str(value)[:40]
)
def test_shown_json_is_what_the_command_prints(
    page: str,
    command: str,
    shown: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """A page's JSON example is the real output of the command named above it, figure for
    figure (an object stands for the list item with its service and SLO); it exits 0 or the
    code a trailing `# exit N` states."""
    monkeypatch.chdir(ROOT)
    env = {**_home_with_the_logs(tmp_path), **_prometheus_for(page, request)}
    command, _, comment = command.partition(" # ")
    expected_code = int(comment.split()[1]) if comment.strip().startswith("exit ") else 0
    result = CliRunner().invoke(app, shlex.split(command)[1:], env=env)
    assert result.exit_code == expected_code, result.output
    printed = json.loads(result.stdout)
    expected = json.loads(shown)
    if isinstance(printed, list) and isinstance(expected, dict):
        printed = next(
            item
            for item in printed
            if (item.get("service"), item.get("slo"))
            == (expected.get("service"), expected.get("slo"))
        )
    assert printed == expected, f"{page}: {command}"


_SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
_CONFIG_BLOCK = re.compile(r"^ *```json\n *(\[.*?\])\n *```", re.DOTALL | re.MULTILINE)
_LOOPBACK = re.compile(r"127\.0\.0\.1:(\d+)")


def _sh_lines(page: Path, language: str = "sh") -> list[str]:
    """The shell lines of a page's ```sh (or ```bash) blocks, continuation lines joined."""
    blocks = _SH_BLOCK if language == "sh" else re.compile(rf"```{language}\n(.*?)```", re.DOTALL)
    text = "\n".join(blocks.findall(page.read_text()))
    return [line.strip() for line in text.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_faultproxy_page_runs_as_written(tmp_path: Path) -> None:
    """faultproxy.md's shell lines, in order: `srekit chaos proxy` with the page's config file
    starts in the background, then each curl line runs against it and gets JSON, not an
    error. The page's ports become free ones (the machine may use its own)."""
    import os
    import subprocess

    import httpx

    from tests.flows.chaos_live import wait_for_proxy
    from tests.served import free_port

    page = ROOT / "docs" / "faultproxy.md"
    text = page.read_text()
    ports = {port: str(free_port()) for port in _LOOPBACK.findall(text)}

    def local(line: str) -> str:
        return _LOOPBACK.sub(lambda match: f"127.0.0.1:{ports[match.group(1)]}", line)

    (config,) = _CONFIG_BLOCK.findall(text)
    (tmp_path / "proxies.json").write_text(local(config))
    lines = _sh_lines(page)
    assert [line.split()[0] for line in lines].count("srekit") == 1
    assert lines[0].startswith("srekit chaos proxy ")
    api = f"http://127.0.0.1:{ports['8474']}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "srekit"), *shlex.split(local(lines[0]))[1:]],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_proxy(api, server)
        answers = []
        for line in lines[1:]:
            assert line.startswith("curl "), line
            done = subprocess.run(
                ["bash", "-c", local(line)], capture_output=True, text=True, timeout=30, check=False
            )
            assert done.returncode == 0, (line, done.stderr)
            if "/metrics" in line:  # Prometheus text, filtered by the line's grep
                (pattern,) = re.findall(r"grep '\^([a-z_]+)'", line)
                series = done.stdout.splitlines()
                assert series, line
                assert all(row.startswith(pattern) for row in series), (line, series)
                continue
            answer = json.loads(done.stdout)
            assert not (isinstance(answer, dict) and "error" in answer), (line, answer)
            answers.append(answer)
        proxies = httpx.get(f"{api}/proxies", timeout=5).json()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert server.returncode == 0
    # what the lines did: both proxies there, each with the toxic the page adds
    assert sorted(proxies) == ["checkout", "orders_db"]
    assert proxies["orders_db"]["upstream"] == f"127.0.0.1:{ports['5432']}"
    latency = {"latency": 100, "jitter": 10, "ttl": 300000}
    assert [(t["type"], t["attributes"]) for t in proxies["orders_db"]["toxics"]] == [
        ("latency", latency)
    ]
    assert [t["type"] for t in proxies["checkout"]["toxics"]] == ["http"]
    assert answers[2] == proxies["orders_db"]["toxics"]  # the page's GET of the toxics


def _run_sh_line(line: str, *, cwd: Path, env: dict[str, str], code: int = 0) -> str:
    """One shell line through bash, as a reader would paste it: its stdout; exit `code`."""
    import subprocess

    done = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == code, f"{line}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


def _shell_env(tmp_path: Path) -> dict[str, str]:
    """The environment the pages' shell lines run in: this checkout's srekit first on PATH
    and importable wherever the lines run, a scratch state store, wide tables."""
    import os

    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT / "src"),
        "SREKIT_HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
    }


def test_the_load_page_runs_as_written(tmp_path: Path) -> None:
    """load.md's shell lines, in order, against a local server answering after 150 ms in a
    process of its own, standing in for the page's `http://127.0.0.1:8080`: the bundled
    example file is copied with its target on the server's port, and the lines run through
    bash in a directory holding that copy, with a scratch state store. Each exits 0 (the
    thresholds hold; the gates pass against the first run), and the files they write parse.
    At 150 ms the gate's 20 % leaves a later run 30 ms of tail over the baseline's, and the
    file's p(95)<200 leaves 50 ms: room for a busy machine's moments either way."""
    from tests.loadgen.target import Target, serve_target_process

    page = ROOT / "docs" / "load.md"
    lines = _sh_lines(page)
    assert len(lines) == 5
    assert all(line.startswith("srekit load run examples/load/checkout.yaml") for line in lines)
    example = (ROOT / "examples" / "load" / "checkout.yaml").read_text()
    assert "target: http://127.0.0.1:8080\n" in example
    env = _shell_env(tmp_path)
    with serve_target_process(Target(latency_s=0.15)) as target:
        (tmp_path / "examples" / "load").mkdir(parents=True)
        (tmp_path / "examples" / "load" / "checkout.yaml").write_text(
            example.replace("http://127.0.0.1:8080", target.url)
        )
        printed = [_run_sh_line(line, cwd=tmp_path, env=env) for line in lines]
        results = _run_sh_line(
            "srekit load results --service checkout --format json", cwd=tmp_path, env=env
        )
    # the file's model: 200/s for 5 s, the first second a warm-up: 800 iterations measured
    assert "✓ http_req_duration: p(95)<200" in printed[0]
    run = json.loads((tmp_path / "run.json").read_text())
    assert json.loads(printed[1]) == run  # -o writes what --format json prints
    assert {"name", "target", "model", "duration_s", "rate", "outcomes", "metrics"} <= set(run)
    assert {"thresholds", "passed", "histogram_unit", "series", "iterations"} <= set(run)
    assert (run["name"], run["target"], run["model"], run["passed"]) == (
        "checkout", target.url, "open", True,
    )  # fmt: skip
    # --rate 300 for 5 s, the first second a warm-up: by hand 300 × 4 = 1,200 iterations
    # measured (give or take the one at the edge), a fifth of them journeys of two requests
    assert run["metrics"]["iterations"]["count"] == pytest.approx(1200, abs=2)
    assert run["outcomes"] == {"ok": run["metrics"]["http_reqs"]["count"]}
    assert run["metrics"]["http_req_duration"]["med"] >= 150  # the server's 150 ms
    k6 = json.loads((tmp_path / "k6-summary.json").read_text())
    assert {"root_group", "options", "state", "metrics"} <= set(k6)
    trend = k6["metrics"]["http_req_duration"]
    assert {"avg", "min", "med", "max", "p(90)", "p(95)", "thresholds"} <= set(trend)
    assert trend["thresholds"] == {"p(95)<200": False, "p(99)<500": False}  # none failed
    assert k6["metrics"]["http_reqs"]["count"] == run["metrics"]["http_reqs"]["count"]
    # every run reached the server, warm-ups included: four runs of the file's 1,000
    # iterations and one of 1,500, each iteration one request or two
    assert 4 * 1000 + 1500 <= target.requests <= 2 * (4 * 1000 + 1500)
    # the store: a baseline, then two gated runs that passed against it
    stored = json.loads(results)
    assert [(r["id"], r["verdict"]) for r in stored] == [(3, "pass"), (2, "pass"), (1, None)]
    assert "checkout: pass against baseline v1" in printed[3]
    assert "checkout: pass against baseline v1" in printed[4]


def test_the_canary_page_command_runs_as_written(tmp_path: Path, canary_prometheus: str) -> None:
    """canary.md's ```bash line (it has no ```sh block, and needs no Kubernetes: only a
    Prometheus) through bash, against the real Prometheus the page's console examples read,
    standing in for `http://prometheus:9090`. That Prometheus holds the shop's history, not
    the line's checkout: the analysis runs and is inconclusive (exit 3) for want of traffic,
    naming the line's selectors and metrics."""
    page = ROOT / "docs" / "canary.md"
    (line,) = _sh_lines(page, "bash")
    assert line.startswith("srekit canary analyze --prometheus http://prometheus:9090 ")
    local = line.replace("http://prometheus:9090", canary_prometheus)
    out = _run_sh_line(local, cwd=tmp_path, env=_shell_env(tmp_path), code=3)
    verdict = 'INCONCLUSIVE canary {app="checkout",track="canary"} against baseline'
    assert out.startswith(verdict + ' {app="checkout",track="stable"}, over 30m to '), out
    rows = [row.split()[:2] for row in out.splitlines()[2:] if row[:1].strip()]
    assert rows == [["error-rate", "inconclusive"], ["latency-p99", "inconclusive"]], out
