"""Many clients at once against a real `srekit serve` on SQLite, with its evaluation loop on:
writes, reads and gate calls all succeed (no 503 "database is locked", no 500), every
acknowledged write is stored with exactly one audit entry, no evaluation round fails, and the
database passes SQLite's integrity check. A write that waits longer than the busy timeout is a
503 saying the store is busy."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from srekit.store import database
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.repo import list_audit
from tests.api.conftest import Api, FakeEvaluator, TestClient, make_app, make_tokens
from tests.ports import free_port

CLIENTS = 30
LOAD_S = 4.0
SERVICES = ("svc-0", "svc-1", "svc-2")
SPEC = {
    "objective": 0.99,
    "window": {"kind": "rolling", "duration_s": 86400},
    "indicator": {"kind": "events_ratio", "good": "status < 500", "stream": "shop"},
}
# What each kind of request answers when it succeeds (a PUT of a new name creates it).
EXPECTED = {"team": 201, "service": 201, "slo": 201, "gate": 200, "status": 200, "list": 200}
KINDS = ("team", "slo", "gate", "status", "service", "gate", "list", "slo")


def _srekit(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("srekit")), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`srekit serve` on a SQLite store with three SLOs on a few events, evaluating every
    second; yields the base URL, a token per role and the database file."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "SREKIT_HOME": str(home),
        "SREKIT_ACTOR": "setup",
        "SREKIT_METRICS_PUBLIC": "true",
    }
    now = datetime.now(UTC)
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": (now - timedelta(minutes=index)).isoformat(),
                    "status": 500 if index % 50 == 0 else 200,
                    "duration_s": 0.05,
                    "method": "GET",
                    "path": "/",
                }
            )
            + "\n"
            for index in range(200)
        )
    )
    _srekit("events", "ingest", str(events), "--service", "shop", "--format", "jsonl", env=env)
    specs = tmp_path / "specs.yaml"
    specs.write_text(
        "---\n".join(
            f"apiVersion: srekit/v1\nkind: SLO\nservice: {service}\nname: availability\n"
            "objective: 99%\nwindow: 1d\nindicator:\n  events:\n    good: status < 500\n"
            "    stream: shop\n"
            for service in SERVICES
        )
    )
    _srekit("slo", "apply", "-f", str(specs), env=env)
    tokens = {
        role: json.loads(
            _srekit("token", "create", "--role", role, "--name", role, "--format", "json", env=env)
        )["token"]
        for role in ("editor", "deploy")
    }
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("srekit")),
                "serve",
                "--port",
                str(port),
                "--interval",
                "1",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _rounds(base).get("ok", 0) < 1:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "no evaluation round within 30 s"
            time.sleep(0.1)
        yield base, tokens, home / "srekit.db"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    logged = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in logged, logged


def _rounds(base: str) -> dict[str, float]:
    """`srekit_evaluation_rounds_total` by outcome; empty while the server is not up."""
    try:
        text = httpx.get(f"{base}/metrics", timeout=5).text
    except httpx.TransportError:
        return {}
    return {
        outcome: float(value)
        for outcome, value in re.findall(
            r'^srekit_evaluation_rounds_total\{outcome="(\w+)"\} (\S+)$', text, re.MULTILINE
        )
    }


def _client(
    base: str, tokens: dict[str, str], number: int, stop: threading.Event
) -> list[tuple[str, str, int | str]]:
    """Requests of every kind in turn until `stop`: (kind, entity written or "", outcome)."""
    outcomes: list[tuple[str, str, int | str]] = []
    editor = {"Authorization": f"Bearer {tokens['editor']}"}
    deploy = {"Authorization": f"Bearer {tokens['deploy']}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        index = 0
        while not stop.is_set():
            kind = KINDS[(number + index) % len(KINDS)]
            name = f"c{number}-{index}"
            service = SERVICES[index % len(SERVICES)]
            entity = ""
            try:
                if kind == "team":
                    entity = f"team/{name}"
                    answer = client.put(f"/api/v1/teams/{name}", headers=editor)
                elif kind == "service":
                    entity = f"service/{name}"
                    answer = client.put(f"/api/v1/services/{name}", headers=editor)
                elif kind == "slo":
                    entity = f"slo/{service}/{name}"
                    answer = client.put(
                        f"/api/v1/slos/{service}/{name}", json={"spec": SPEC}, headers=editor
                    )
                elif kind == "gate":  # a new version each time: a deployment to record
                    answer = client.get(
                        "/api/v1/gate",
                        params={
                            "service": service,
                            "change_type": "feature",
                            "version": f"v-{name}",
                        },
                        headers=deploy,
                    )
                elif kind == "status":
                    answer = client.get("/api/v1/status", headers=editor)
                else:
                    path = ("/api/v1/teams", "/api/v1/services", "/api/v1/slos")[index % 3]
                    answer = client.get(path, headers=editor)
                outcomes.append((kind, entity, answer.status_code))
            except httpx.HTTPError as error:
                outcomes.append((kind, entity, type(error).__name__))
            index += 1
    return outcomes


def test_many_clients_at_once_all_succeed_on_sqlite(
    served: tuple[str, dict[str, str], Path],
) -> None:
    base, tokens, database = served
    stop = threading.Event()
    results: list[list[tuple[str, str, int | str]]] = [[] for _ in range(CLIENTS)]

    def run(number: int) -> None:
        results[number] = _client(base, tokens, number, stop)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_S)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    time.sleep(1.5)  # at least one more evaluation round, on everything written
    rounds = _rounds(base)

    outcomes = [outcome for result in results for outcome in result]
    unexpected = Counter(
        (kind, code) for kind, _, code in outcomes if code != EXPECTED[kind]
    ).most_common()
    assert unexpected == []
    kinds = Counter(kind for kind, _, _ in outcomes)
    assert all(kinds[kind] >= CLIENTS for kind in EXPECTED), kinds  # every kind, many times
    assert rounds.get("failed", 0) == 0, rounds
    assert rounds.get("ok", 0) >= 2, rounds
    written = [entity for kind, entity, _ in outcomes if entity]

    # the store, read behind the server's back
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        audited = Counter(
            f"{kind}/{entity}"
            for kind, entity in connection.execute(
                "SELECT entity_kind, entity_id FROM audit_log WHERE actor = 'editor'"
            )
        )
        stored = {
            *(f"team/{name}" for (name,) in connection.execute("SELECT name FROM teams")),
            *(f"service/{name}" for (name,) in connection.execute("SELECT name FROM services")),
            *(
                f"slo/{service}/{name}"
                for service, name in connection.execute(
                    "SELECT services.name, slos.name FROM slos"
                    " JOIN services ON services.id = slos.service_id"
                )
            ),
        }
        recorded = connection.execute("SELECT count(*) FROM deployments").fetchone()[0]
    assert sorted(set(written) - stored) == []
    assert audited == Counter(written)  # exactly one entry per write, and none other
    # the recorder writes the gate's decisions a batch at a time: all of them by now
    assert recorded == kinds["gate"]


@pytest.mark.parametrize("holder", ["another process", "this process"])
def test_a_write_waiting_longer_than_the_busy_timeout_is_503_busy(
    holder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is overloaded, not down: 503 with Retry-After, saying so; nothing written."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.3)
    path = tmp_path / "srekit.db"
    store = create_store_engine(f"sqlite:///{path}")
    upgrade(store)
    tokens = make_tokens(store)
    app = make_app(store, FakeEvaluator(), tmp_path)
    headers = {"Authorization": f"Bearer {tokens['editor']}"}
    release = threading.Event()
    holding = threading.Event()

    def hold_the_write_lock() -> None:
        if holder == "another process":  # a connection of its own, as `srekit slo apply` has
            with sqlite3.connect(path, isolation_level=None) as other:
                other.execute("BEGIN IMMEDIATE")
                holding.set()
                release.wait(10)
                other.execute("ROLLBACK")
        else:
            with transaction(store):
                holding.set()
                release.wait(10)

    with TestClient(app) as client:
        assert client.get("/api/v1/teams", headers=headers).status_code == 200  # token cached
        thread = threading.Thread(target=hold_the_write_lock)
        thread.start()
        try:
            assert holding.wait(5)
            started = time.monotonic()
            answer = client.put("/api/v1/teams/late", headers=headers)
            waited = time.monotonic() - started
        finally:
            release.set()
            thread.join(10)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        assert answer.json()["detail"].startswith("the state store is busy: database is locked")
        assert "srekit.db" not in answer.text  # never the database's file path
        assert 0.25 <= waited < 3
        assert client.put("/api/v1/teams/late", headers=headers).status_code == 201  # retried
    with transaction(store, read_only=True) as session:
        assert [row.entity_id for row in list_audit(session, entity_kind="team")] == ["late"]
    store.dispose()


def test_listing_and_getting_read_beside_a_writer_on_sqlite(lite_api: Api) -> None:
    """The routes that list and get take no write lock: they answer while a writer holds it,
    instead of queueing behind it (up to the busy timeout) as they did."""
    lite_api.put("/api/v1/services/checkout", json={"team": "payments"})
    paths = [
        "/api/v1/teams",
        "/api/v1/teams/payments",
        "/api/v1/services",
        "/api/v1/services/checkout",
        "/api/v1/slos",
        "/api/v1/policies",
        "/api/v1/audit",
        "/api/v1/tokens",
    ]
    for path in paths:  # the admin token is looked up (and cached) before the lock is held
        assert lite_api.get(path).status_code == 200, path
    engine = lite_api.client.app.state.srekit.engine  # type: ignore[attr-defined]
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with transaction(engine) as session:
            session.execute(text("UPDATE teams SET name = name"))
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    try:
        assert holding.wait(5)
        for path in paths:
            started = time.monotonic()
            response = lite_api.get(path)
            assert response.status_code == 200, (path, response.text)
            assert time.monotonic() - started < 2.0, path  # the busy timeout is 5 s
    finally:
        release.set()
        writer.join(10)
