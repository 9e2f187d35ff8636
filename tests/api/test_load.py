"""`/api/v1/load/{service}`: upload results as the tools write them, set baselines, ask the
gate; roles; hostile bodies and queries refused with 4xx and nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.api.conftest import Api, FakeEvaluator, TestClient, make_app, make_tokens
from tests.cli.test_load_gate import BASELINE, CANDIDATE, LOCUST, k6_export

BASE = "/api/v1/load"


def test_upload_baseline_gate_and_read_back(api: Api) -> None:
    uploaded = api.post(
        f"{BASE}/checkout/results",
        content=BASELINE.read_bytes(),
        params={"source": "baseline.json"},
        role="editor",
    )
    assert uploaded.status_code == 201, uploaded.text
    run = uploaded.json()
    assert (run["service"], run["tool"], run["source"], run["recorded_by"]) == (
        "checkout",
        "k6",
        "baseline.json",
        "editor-bot",
    )
    base = json.loads(BASELINE.read_text())["metrics"]
    assert run["summary"]["requests"] == base["http_reqs"]["count"]
    made = api.post(f"{BASE}/checkout/baselines", json={"run_id": run["id"]}, role="editor")
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1
    gated = api.post(f"{BASE}/checkout/gate", content=CANDIDATE.read_bytes(), role="deploy")
    assert gated.status_code == 200, gated.text
    verdict = gated.json()
    assert (verdict["outcome"], verdict["passed"], verdict["baseline_version"]) == (
        "pass",
        True,
        1,
    )
    p95 = next(c for c in verdict["checks"] if c["check"] == "p95")
    assert p95["limit"] == pytest.approx(base["http_req_duration"]["p(95)"] * 1.2)
    # a tighter limit turns the same run into a failure, answered as 200 with passed false
    strict = api.post(
        f"{BASE}/checkout/gate",
        content=CANDIDATE.read_bytes(),
        params={"latency_increase": "0.01", "noise_floor_ms": "1", "record": "false"},
        role="deploy",
    )
    assert strict.status_code == 200
    assert (strict.json()["passed"], strict.json()["run_id"]) == (False, None)
    listed = api.get(f"{BASE}/checkout/results", role="viewer").json()
    assert [(r["id"], r["verdict"]) for r in listed] == [
        (verdict["run_id"], "pass"),
        (run["id"], None),
    ]
    baselines = api.get(f"{BASE}/checkout/baselines", role="viewer").json()
    assert [(b["version"], b["run_id"]) for b in baselines] == [(1, run["id"])]
    audit = api.get("/api/v1/audit", role="admin").json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    assert any(entry["action"] == "load_baseline.set" for entry in entries)


def test_locust_upload(api: Api) -> None:
    uploaded = api.post(
        f"{BASE}/search/results", content=LOCUST.read_bytes(), params={"source": "s.csv"}
    )
    assert uploaded.status_code == 201, uploaded.text
    summary = uploaded.json()["summary"]
    assert summary["tool"] == "locust"
    assert summary["requests"] == 6002
    assert summary["error_rate"] == pytest.approx(3 / 6002)


def test_roles(api: Api) -> None:
    body = k6_export(10.0)
    assert api.post(f"{BASE}/a/results", content=body, role="viewer").status_code == 403
    assert api.post(f"{BASE}/a/results", content=body, role="deploy").status_code == 403
    assert api.post(f"{BASE}/a/gate", content=body, role="viewer").status_code == 403
    assert api.post(f"{BASE}/a/gate", content=body, role=None).status_code == 401
    assert api.get(f"{BASE}/a/results", role="deploy").status_code == 403
    assert api.post(f"{BASE}/a/baselines", json={"run_id": 1}, role="viewer").status_code == 403


@pytest.fixture
def small_api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    evaluator = FakeEvaluator()
    app = make_app(sqlite_engine, evaluator, tmp_path, max_body_bytes=100_000)
    with TestClient(app) as client:
        yield Api(client, make_tokens(sqlite_engine), evaluator)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"metrics": {"http_reqs": {"count": NaN}}}', "expected finite numbers, got NaN"),
        (b'{"metrics": {"http_reqs": {"count": 1e309}}}', "finite"),
        (b'{"metrics": ' + b"[" * 40_000 + b"]" * 40_000 + b"}", "nested too deeply"),
        (b'{"metrics": {"a\\u0001": {}}}', "printable"),
        (b"Type,Name\n", "missing Request Count"),
        (b"\xff\xfe", "expected UTF-8"),
        (b"", "expected k6 JSON"),
    ],
)
def test_hostile_bodies_are_422_and_store_nothing(
    small_api: Api, body: bytes, expected: str
) -> None:
    for path in ("results", "gate"):
        answer = small_api.post(f"{BASE}/api/{path}", content=body)
        assert answer.status_code == 422, answer.text
        assert expected in json.dumps(answer.json())
    assert small_api.get(f"{BASE}/api/results").json() == []


def test_huge_bodies_are_413(small_api: Api) -> None:
    answer = small_api.post(f"{BASE}/api/results", content=b" " * 200_000)
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/gate", {"latency_increase": "nan"}),
        ("/gate", {"max_p95_ms": "1e309"}),
        ("/gate", {"throughput_drop": "2"}),
        ("/gate", {"baseline": "0"}),
        ("/results", {"source": "a\x00b"}),
    ],
)
def test_hostile_queries_are_422(small_api: Api, path: str, params: dict[str, str]) -> None:
    answer = small_api.post(f"{BASE}/api{path}", content=k6_export(10.0), params=params)
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("service", ["Bad", "a%09b", "x" * 201, "..", "api\U0001f600"])
def test_hostile_service_names(small_api: Api, service: str) -> None:
    answer = small_api.post(f"{BASE}/{service}/results", content=k6_export(10.0))
    assert answer.status_code in (404, 422), answer.text
    assert small_api.get(f"{BASE}/api/results").json() == []


def test_unknown_baseline_and_run_are_404(small_api: Api) -> None:
    missing = small_api.post(f"{BASE}/api/gate", content=k6_export(10.0), params={"baseline": "3"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "api has no load-test baseline version 3"}
    run = small_api.post(f"{BASE}/api/baselines", json={"run_id": 42})
    assert run.status_code == 404
    bad = small_api.post(f"{BASE}/api/baselines", json={"run_id": 1, "extra": 1})
    assert bad.status_code == 422


def _slower_suggest(p95: str) -> bytes:
    """search_stats.csv with /suggest's 95% column set to `p95` ms, all else as measured."""
    lines = LOCUST.read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        if row[1] == "/suggest":
            row[header.index("95%")] = p95
    return ("\n".join(",".join(row) for row in [header, *rows]) + "\n").encode()


def test_the_gate_answers_a_row_per_request_name(api: Api) -> None:
    uploaded = api.post(f"{BASE}/search/results", content=LOCUST.read_bytes(), role="editor")
    made = api.post(f"{BASE}/search/baselines", json={"run_id": uploaded.json()["id"]})
    assert made.status_code == 201, made.text
    gated = api.post(f"{BASE}/search/gate", content=_slower_suggest("40"), role="deploy")
    assert gated.status_code == 200, gated.text
    verdict = gated.json()
    assert (verdict["outcome"], verdict["passed"]) == ("fail", False)
    rows = {(c["check"], c["tags"]): c for c in verdict["checks"]}
    assert {c["outcome"] for c in verdict["checks"] if not c["tags"]} == {"pass"}  # Aggregated
    suggest = rows[("p95", "method:GET,name:/suggest")]
    # 26 ms × 1.2 = 31.2 ms; 40 − 26 = 14 ms over a floor of max(2, 0.5 + 0.5) ms
    assert (suggest["outcome"], suggest["current"], suggest["baseline"]) == ("fail", 40.0, 26.0)
    assert suggest["limit"] == pytest.approx(31.2)
    assert rows[("p95", "method:GET,name:/search?q=[term]")]["outcome"] == "pass"
    assert rows[("error_rate", "method:GET,name:/search?q=[term]")]["current"] == pytest.approx(
        3 / 4812
    )
    stored = api.get(f"{BASE}/search/results", role="viewer").json()[0]
    assert stored["checks"] == verdict["checks"]  # the rows are kept with the run
