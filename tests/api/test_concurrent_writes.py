"""Many clients writing at once to load results and baselines, recorded capacity plans and
chaos runs, against the app served for real by uvicorn, on SQLite and on PostgreSQL, with
hostile bodies mixed in: every request is answered 2xx or a clear 4xx (never a 5xx, never a
dropped connection), and afterwards the store holds exactly the valid writes sent, each as
it was sent."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine

from srekit.store.database import create_store_engine, transaction
from srekit.store.repo import list_audit
from srekit.store.repo.chaos import chaos_run, chaos_runs, record_chaos_run
from tests.api.conftest import FakeEvaluator, make_app, make_tokens
from tests.capacity_plans import END, forecast_request
from tests.cli.test_load_gate import k6_export
from tests.served import serving

T = TypeVar("T")
CLIENTS = 12
MAX_BODY_BYTES = 100_000
HUGE = b"[" + b"1," * MAX_BODY_BYTES + b"1]"  # past the limit: 413 before it is read


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@dataclass(frozen=True)
class Server:
    """The app under uvicorn on a migrated store: its base URL, a token per role, the store."""

    url: str
    tokens: dict[str, str]
    engine: Engine
    database_url: str

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def server(engine: Engine, empty_url: str, tmp_path: Path) -> Iterator[Server]:
    app = make_app(engine, FakeEvaluator(), tmp_path, max_body_bytes=MAX_BODY_BYTES)
    tokens = make_tokens(engine)
    with serving(app) as address:
        yield Server(f"http://{address}", tokens, engine, empty_url)


def _at_once(calls: list[Callable[[httpx.Client], T]]) -> list[T]:
    """Run `calls` from CLIENTS threads, each with a client (connection) of its own, released
    together; their results in the order of `calls`."""
    start = threading.Barrier(min(CLIENTS, len(calls)))
    local = threading.local()
    clients: list[httpx.Client] = []

    def run(call: Callable[[httpx.Client], T]) -> T:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
            clients.append(local.client)
            start.wait(timeout=30)
        client: httpx.Client = local.client
        return call(client)

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            return list(pool.map(run, calls))
    finally:
        for client in clients:
            client.close()


Call = Callable[[httpx.Client], tuple[str, httpx.Response]]


def _post(
    server: Server,
    path: str,
    kind: str,
    *,
    role: str = "editor",
    body: bytes | None = None,
    document: object = None,
    params: dict[str, str] | None = None,
) -> Call:
    """A call that POSTs `body` (raw JSON bytes) or `document` to `path` as `role`, answering
    `(kind, response)`."""

    def call(client: httpx.Client) -> tuple[str, httpx.Response]:
        content = body if body is not None else json.dumps(document).encode()
        answer = client.post(
            f"{server.url}{path}",
            content=content,
            params=params,
            headers={**server.headers(role), "Content-Type": "application/json"},
        )
        return (kind, answer)

    return call


def _assert_clear(answers: list[tuple[str, httpx.Response]]) -> None:
    """No answer is a 5xx, and every 4xx says what was wrong in JSON `detail`."""
    for kind, answer in answers:
        assert answer.status_code < 500, (kind, answer.status_code, answer.text[:300])
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/json", kind
            assert answer.json()["detail"], kind


# -- load results -------------------------------------------------------------------------

LOAD_HOSTILE = {
    "nan": b'{"metrics": {"http_reqs": {"count": NaN}}}',
    "1e309": b'{"metrics": {"http_reqs": {"count": 1e309}}}',
    "deep": b'{"metrics": ' + _deep(40_000) + b"}",
    "control": b'{"metrics": {"a\\u0001": {}}}',
    "not utf-8": b"\xff\xfe",
    "huge": HUGE,
}


def test_many_runs_uploaded_and_gated_at_once_are_all_stored(server: Server) -> None:
    """Uploads (editor) and recorded gate runs (deploy) at once, hostile bodies among them:
    the stored runs are exactly the valid ones, with the figures each one carried."""
    sent: list[tuple[str, str, int]] = []  # (service, source, requests) of each valid run
    calls: list[Call] = []
    expected: Counter[tuple[str, int]] = Counter()
    for number in range(CLIENTS * 4):
        service = ("checkout", "search")[number % 2]
        source = f"run-{number}.json"
        requests = 1000 + number
        path, role, status = ("results", "editor", 201) if number % 3 else ("gate", "deploy", 200)
        sent.append((service, source, requests))
        calls.append(
            _post(
                server,
                f"/api/v1/load/{service}/{path}",
                path,
                role=role,
                body=k6_export(10.0, count=requests).encode(),
                params={"source": source} | ({} if path == "results" else {"compare": "false"}),
            )
        )
        kind, body = list(LOAD_HOSTILE.items())[number % len(LOAD_HOSTILE)]
        calls.append(_post(server, f"/api/v1/load/checkout/{path}", kind, role=role, body=body))
        expected.update([(path, status), (kind, 413 if kind == "huge" else 422)])

    answers = _at_once(calls)
    _assert_clear(answers)
    assert Counter((kind, answer.status_code) for kind, answer in answers) == expected
    stored = []
    with httpx.Client(base_url=server.url, headers=server.headers("viewer")) as client:
        for service in ("checkout", "search"):
            listed = client.get(f"/api/v1/load/{service}/results", params={"limit": 1000})
            assert listed.status_code == 200
            stored += [
                (run["service"], run["source"], run["summary"]["requests"]) for run in listed.json()
            ]
    assert sorted(stored) == sorted(sent)
    ids = [answer.json()["run_id" if kind == "gate" else "id"] for kind, answer in answers[::2]]
    assert len(set(ids)) == len(sent)  # every write answered with a run of its own


# -- load baselines -----------------------------------------------------------------------

BASELINE_HOSTILE = {
    "nan": b'{"run_id": NaN}',
    "1e309": b'{"run_id": 1e309}',
    "deep": b'{"run_id": ' + _deep(20_000) + b"}",
    "control": b'{"run_id": 1, "\\u0000": 1}',
    "string": b'{"run_id": "one"}',
    "huge": HUGE,
}


def test_many_baselines_set_at_once_get_versions_in_order(server: Server) -> None:
    """Each client makes a different run the baseline, all at once: on both stores they take
    turns and none is refused as a race (PostgreSQL used to answer 409 where SQLite queued);
    the versions are 1..N with no gap or duplicate, each run once, and the newest is the run
    of whoever was answered version N."""
    with httpx.Client(base_url=server.url, headers=server.headers("editor")) as client:
        runs = [
            client.post(
                "/api/v1/load/checkout/results", content=k6_export(10.0, count=1000 + n)
            ).json()["id"]
            for n in range(CLIENTS * 2)
        ]
        other = client.post("/api/v1/load/search/results", content=k6_export(9.0)).json()["id"]

    path = "/api/v1/load/checkout/baselines"
    calls = [_post(server, path, "set", document={"run_id": run_id}) for run_id in runs]
    calls += [_post(server, path, kind, body=body) for kind, body in BASELINE_HOSTILE.items()]
    calls.append(_post(server, path, "another service's run", document={"run_id": other}))
    answers = _at_once(calls)
    _assert_clear(answers)
    assert [answer.status_code for _, answer in answers[: len(runs)]] == [201] * len(runs)
    assert [answer.status_code for _, answer in answers[len(runs) :]] == [
        *(413 if kind == "huge" else 422 for kind in BASELINE_HOSTILE),
        404,
    ]
    answered = {
        answer.json()["version"]: answer.json()["run_id"] for _, answer in answers[: len(runs)]
    }
    assert sorted(answered) == list(range(1, len(runs) + 1))
    assert sorted(answered.values()) == sorted(runs)
    with httpx.Client(base_url=server.url, headers=server.headers("viewer")) as client:
        stored = client.get("/api/v1/load/checkout/baselines").json()
        assert client.get("/api/v1/load/search/baselines").json() == []
    assert [(b["version"], b["run_id"]) for b in stored] == sorted(answered.items(), reverse=True)
    assert stored[0]["run_id"] in runs
    with transaction(server.engine, read_only=True) as session:
        audited = list_audit(session, entity_kind="load_baseline", limit=None)
        assert len(audited) == len(runs)  # one entry per version, none for what was refused


# -- capacity plans -----------------------------------------------------------------------


def _plan_body(service: str, at: datetime) -> dict[str, Any]:
    return forecast_request(service, at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _capacity_hostile() -> dict[str, bytes]:
    at = datetime.fromtimestamp(END, UTC)
    valid = json.dumps(_plan_body("checkout", at))
    return {
        "nan": valid.replace('"limit": 24', '"limit": NaN').encode(),
        "1e309": valid.replace('"limit": 24', '"limit": 1e309').encode(),
        "deep": b'{"plan": ' + _deep(30_000) + b"}",
        "control": valid.replace('"name": "checkout"', '"name": "a\\u0007b"', 1).encode(),
        "future": valid.replace("2026-03-31", "2999-03-31").encode(),
        "huge": HUGE,
    }


def test_many_plans_recorded_at_once_are_all_listed(server: Server) -> None:
    at = datetime.fromtimestamp(END, UTC)
    valid = [
        (("checkout", "search", "cart")[n % 3], at - timedelta(minutes=n))
        for n in range(CLIENTS * 2)
    ]

    path = "/api/v1/capacity/forecast"
    calls = [
        _post(server, path, "record", document=_plan_body(service, when)) for service, when in valid
    ]
    hostile_bodies = _capacity_hostile()
    calls += [_post(server, path, kind, body=body) for kind, body in hostile_bodies.items()] * 2
    answers = _at_once(calls)
    _assert_clear(answers)
    assert [answer.status_code for _, answer in answers[: len(valid)]] == [200] * len(valid)
    assert [answer.status_code for _, answer in answers[len(valid) :]] == [
        413 if kind == "huge" else 422 for kind in hostile_bodies
    ] * 2
    with httpx.Client(base_url=server.url, headers=server.headers("viewer")) as client:
        plans = client.get("/api/v1/capacity/plans", params={"limit": 1000}).json()
    assert sorted((p["service"], p["made_at"]) for p in plans) == sorted(
        (service, when.strftime("%Y-%m-%dT%H:%M:%SZ")) for service, when in valid
    )
    # each stored as its answer described it (the same series: the same model each time)
    models = {answer.json()["resources"][0]["model"] for _, answer in answers[: len(valid)]}
    assert len(models) == 1
    assert {(p["resource"], p["limit"], p["model"]) for p in plans} == {("cpu", 24.0, *models)}


# -- chaos runs ---------------------------------------------------------------------------

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _journal(number: int) -> dict[str, Any]:
    start = AT + timedelta(minutes=number)
    return {
        "experiment": {"title": f"latency {number}"},
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=2)).isoformat(),
        "status": ("completed", "failed", "aborted")[number % 3],
        "deviated": number % 2 == 0,
        "steady_states": {"before": None, "during": [], "after": None},
        "run": [],
        "rollbacks": [],
    }


CHAOS_HOSTILE = {
    "nan": b'{"title": NaN, "description": "d", "method": []}',
    "1e309": b'{"title": "t", "description": "d", "method": [], "x": 1e309}',
    "deep": b'{"title": "t", "description": "d", "method": ' + _deep(30_000) + b"}",
    "control": b'{"title": "a\\u0000b", "description": "d", "method": []}',
    "huge": HUGE,
}


def test_many_chaos_runs_recorded_while_clients_read_and_validate(server: Server) -> None:
    """Chaos runs are written by `srekit chaos run` (never by a request): many runs recorded
    at once through a store connection of their own, as separate commands would, while
    clients list them and send hostile experiments to validate. Every answer is 2xx or 4xx,
    and the stored runs are exactly the journals recorded."""
    recorder = create_store_engine(server.database_url)

    def record(number: int) -> Callable[[httpx.Client], tuple[str, int]]:
        def call(client: httpx.Client) -> tuple[str, int]:
            with transaction(recorder) as session:
                row = record_chaos_run(
                    session,
                    journal=_journal(number),
                    service=("checkout", "search")[number % 2],
                    budget_consumed=number / 100,
                )
                return ("record", row.id)

        return call

    def read(client: httpx.Client) -> tuple[str, httpx.Response]:
        return (
            "list",
            client.get(f"{server.url}/api/v1/chaos/runs", headers=server.headers("viewer")),
        )

    count = CLIENTS * 3
    calls: list[Callable[[httpx.Client], tuple[str, Any]]] = []
    for number in range(count):
        calls.append(record(number))
        calls.append(read)
        kind, body = list(CHAOS_HOSTILE.items())[number % len(CHAOS_HOSTILE)]
        calls.append(_post(server, "/api/v1/chaos/validate", kind, role="viewer", body=body))
    try:
        answers = _at_once(calls)
    finally:
        recorder.dispose()
    responses = [(kind, answer) for kind, answer in answers if kind != "record"]
    _assert_clear(responses)
    for kind, answer in responses:
        expected = 200 if kind == "list" else 413 if kind == "huge" else 422
        assert answer.status_code == expected, (kind, answer.text[:300])
    recorded = {run_id: number for number, (_, run_id) in enumerate(answers[::3])}
    assert len(recorded) == count
    with httpx.Client(base_url=server.url, headers=server.headers("viewer")) as client:
        listed = client.get("/api/v1/chaos/runs", params={"limit": 1000}).json()
        assert sorted(run["id"] for run in listed) == sorted(recorded)
        for run in listed:
            number = recorded[run["id"]]
            assert (run["service"], run["title"], run["status"], run["budget_consumed"]) == (
                ("checkout", "search")[number % 2],
                f"latency {number}",
                _journal(number)["status"],
                number / 100,
            )
        # each journal as it was recorded, read back whole
        for run_id, number in list(recorded.items())[:: CLIENTS // 2]:
            shown = client.get(f"/api/v1/chaos/runs/{run_id}").json()
            assert shown["journal"] == _journal(number)
    with transaction(server.engine, read_only=True) as session:
        assert len(chaos_runs(session, limit=10_000)) == count
        assert chaos_run(session, run_id=min(recorded)).journal == _journal(recorded[min(recorded)])
