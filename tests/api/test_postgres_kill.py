"""A server writing to PostgreSQL while PostgreSQL is killed and restarted: requests meanwhile
get 503 (never a 500 or a hang), writes succeed again after, and every write acknowledged with
a 2xx is in the store."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

from srekit.api import create_app
from srekit.config import Settings
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.repo import list_teams
from tests.api.conftest import FakeEvaluator, make_tokens
from tests.ports import free_port
from tests.postgres_fixture import PostgresServer


def _kill(server: PostgresServer) -> None:
    """Immediate shutdown (SIGQUIT): no checkpoint, clients cut off, as a crash would."""
    server.process.send_signal(signal.SIGQUIT)
    server.process.wait(timeout=10)


def _restart(server: PostgresServer) -> None:
    """Start the postmaster again on the same data directory and port (crash recovery)."""
    workdir = server.datadir.parent
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    with (workdir / "postgres.log").open("ab") as log:
        server.process = subprocess.Popen(
            [
                str(server.bindir / "postgres"),
                "-D",
                str(server.datadir),
                "-k",
                str(workdir),
                "-h",
                "127.0.0.1",
                "-p",
                str(server.port),
                "-c",
                "fsync=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            **run_as,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(server.dsn("postgres"), connect_timeout=1):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A cluster of this test's own: killing the session's would break other tests."""
    try:
        server = PostgresServer.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


class _Served:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.mark.integration
def test_writes_survive_a_postgres_crash(own_postgres: PostgresServer, tmp_path: Path) -> None:
    url = own_postgres.create_database("kill")
    # The fixture's cluster trades durability for speed (synchronous_commit=off loses the last
    # acknowledged commits in a crash); this test is about exactly those, so it wants them kept.
    with psycopg.connect(own_postgres.dsn("kill_1"), autocommit=True) as connection:
        connection.execute("ALTER DATABASE kill_1 SET synchronous_commit = on")
    engine = create_store_engine(url)
    upgrade(engine)
    tokens = make_tokens(engine)
    app = create_app(Settings(home=tmp_path), engine=engine, evaluator=FakeEvaluator())
    outcomes: list[tuple[str, int | str]] = []
    stop = threading.Event()

    def write(base: str) -> None:
        headers = {"Authorization": f"Bearer {tokens['editor']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            index = 0
            while not stop.is_set():
                name = f"team-{index}"
                try:
                    outcomes.append((name, client.put(f"/api/v1/teams/{name}").status_code))
                except httpx.HTTPError as error:  # no answer: not acknowledged
                    outcomes.append((name, type(error).__name__))
                index += 1
                time.sleep(0.01)

    with _Served(app) as base:
        writer = threading.Thread(target=write, args=(base,))
        writer.start()
        time.sleep(1.0)
        _kill(own_postgres)
        time.sleep(1.5)
        down = len(outcomes)
        _restart(own_postgres)
        restarted = len(outcomes)
        time.sleep(2.0)
        stop.set()
        writer.join(timeout=30)
        with httpx.Client(base_url=base, timeout=10) as client:
            ready = client.get("/readyz").status_code

    codes = [code for _, code in outcomes]
    assert set(codes) <= {201, 503}, sorted(set(map(str, codes)))
    assert 503 in codes[: restarted + 5]
    assert 201 in codes[:down], "writes succeeded before the crash"
    assert 201 in codes[restarted:], "writes succeed again after the restart"
    assert ready == 200
    acknowledged = {name for name, code in outcomes if code == 201}
    with transaction(engine) as session:
        stored = {team.name for team in list_teams(session)}
    assert acknowledged <= stored
    engine.dispose()
