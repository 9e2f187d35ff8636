"""What the CLI's tests share: the examples, `run` (one command of the `srekit` app through
CliRunner), `Cli` with its fixture (commands against a new state store on each engine, as one
actor), a copy of the example specs, and an SREKIT_HOME whose event store holds the bundled logs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from srekit.cli.main import app
from tests.alertmanager_fixture import alertmanager, start_alertmanager, webhook_recorder
from tests.api.conftest import AVAILABILITY_SPEC, FakeEvaluator, TestClient, make_app, make_tokens
from tests.served import serving

__all__ = ["Cli", "Served", "alertmanager", "run", "start_alertmanager", "webhook_recorder"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

runner = CliRunner()


def run(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


class Cli:
    """Runs commands against one database, as one actor unless told otherwise."""

    def __init__(self, url: str, home: Path) -> None:
        self.env = {"SREKIT_DATABASE_URL": url, "SREKIT_HOME": str(home), "SREKIT_ACTOR": "ci"}

    def __call__(self, *args: str | Path) -> tuple[int, str, str]:
        result = runner.invoke(app, [str(a) for a in args], env=self.env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str | Path) -> Any:
        code, out, err = self(*args, "--format", "json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(empty_url: str, tmp_path: Path) -> Cli:
    return Cli(empty_url, tmp_path / "home")


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    copy = tmp_path / "specs"
    shutil.copytree(EXAMPLES / "slos", copy)
    return copy


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("srekit-home")
    env = {"SREKIT_HOME": str(home)}
    runner = CliRunner()
    for service in ("checkout", "catalog"):
        log = EXAMPLES / "logs" / f"{service}.access.log.gz"
        result = runner.invoke(
            app, ["events", "ingest", str(log), "--service", service, "--format", "nginx"], env=env
        )
        assert result.exit_code == 0, result.output
        rejected = 2 if service == "checkout" else 0
        assert f"{rejected} records rejected" in result.output, result.output
    return env


def status_by_slo(env: dict[str, str], *extra: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(
        app,
        [
            "status",
            "-f",
            str(EXAMPLES / "slos"),
            "--at",
            "2026-11-19T12:00:00Z",
            "--format",
            "json",
            *extra,
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    return {f"{s['service']}/{s['slo']}": s for s in json.loads(result.stdout)}


class Served:
    def __init__(self, url: str, tokens: dict[str, str], evaluator: FakeEvaluator) -> None:
        self.url, self.tokens, self.evaluator = url, tokens, evaluator

    def run(self, *args: str, role: str | None = "viewer") -> tuple[int, str, str]:
        env = {"SREKIT_TOKEN": self.tokens[role] if role else ""}
        return run(*args, "--server", self.url, env=env)


@pytest.fixture
def served(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Served]:
    evaluator = FakeEvaluator()
    tokens = make_tokens(sqlite_engine)
    app = make_app(sqlite_engine, evaluator, tmp_path)
    with TestClient(app) as client:  # store checkout's SLO through the API
        headers = {"Authorization": f"Bearer {tokens['editor']}"}
        put = client.put(
            "/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC}, headers=headers
        )
        assert put.status_code == 201
    with serving(app) as address:
        yield Served(f"http://{address}", tokens, evaluator)
