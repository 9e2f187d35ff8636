"""`POST /api/v1/canary/analyze` (Argo Rollouts' web metric) and `/flagger` (Flagger's
webhook) against a real Prometheus serving the generated canary history: the verdicts, the
statuses Flagger reads, the document each answers (the flow's, and `CanaryAnalysisOut`'s),
tokens, and hostile input."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from srekit.api.schemas.canary import CanaryAnalysisIn, CanaryAnalysisOut
from srekit.config import Settings
from srekit.core.instant import format_instant
from srekit.flows.canary import analyze_canary, plan_request, prometheus_querier, report_document
from tests.api.conftest import Api, FakeEvaluator, TestClient, make_app, make_tokens
from tests.canary_data import AT, serve_canary_history
from tests.integration.prometheus_fixture import Backfilled

STABLE = 'app="shop",track="stable"'


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    with serve_canary_history(tmp_path_factory.mktemp("canary-prometheus")) as backfilled:
        yield backfilled


def _client(store: Engine, tmp_path: Path, prometheus_url: str | None) -> Iterator[Api]:
    evaluator = FakeEvaluator()
    tokens = make_tokens(store)
    app = make_app(store, evaluator, tmp_path, prometheus_url=prometheus_url)
    with TestClient(app) as client:
        yield Api(client, tokens, evaluator)


@pytest.fixture
def canary_api(sqlite_engine: Engine, tmp_path: Path, history: Backfilled) -> Iterator[Api]:
    yield from _client(sqlite_engine, tmp_path, history.url)


def _body(track: str, **more: Any) -> dict[str, Any]:
    return {
        "canary": f'app="shop",track="{track}"',
        "baseline": STABLE,
        "at": format_instant(AT),
        **more,
    }


def _flagger(track: str, **metadata: str) -> dict[str, Any]:
    return {
        "name": "shop",
        "namespace": "prod",
        "phase": "Progressing",
        "metadata": {
            "canary": f'app="shop",track="{track}"',
            "baseline": STABLE,
            "at": format_instant(AT),
            **metadata,
        },
    }


@pytest.mark.integration
@pytest.mark.parametrize(
    ("track", "verdict"), [("worse", "fail"), ("same", "pass"), ("trickle", "inconclusive")]
)
def test_analyze_answers_200_with_the_verdict(canary_api: Api, track: str, verdict: str) -> None:
    response = canary_api.post("/api/v1/canary/analyze", json=_body(track), role="deploy")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["verdict"] == verdict
    CanaryAnalysisOut.model_validate(document)


@pytest.mark.integration
def test_analyze_serves_the_flow_document(canary_api: Api, history: Backfilled) -> None:
    body = _body(
        "worse",
        window="1h",
        step="2m",
        metrics=["latency-p99", "error-rate"],
        alpha=0.01,
        min_intervals=20,
        tolerances={"error-rate": {"relative": 0.5, "absolute": 0.002}},
    )
    response = canary_api.post("/api/v1/canary/analyze", json=body, role="admin")
    assert response.status_code == 200, response.text
    plan = plan_request(
        canary='app="shop",track="worse"',
        baseline=STABLE,
        window="1h",
        step="2m",
        metrics=["latency-p99", "error-rate"],
        alpha=0.01,
        min_intervals=20,
        tolerances={"error-rate": (0.5, 0.002)},
    )
    with prometheus_querier(Settings(), history.url) as querier:
        report = analyze_canary(querier, plan, at=AT)
    assert response.json() == json.loads(json.dumps(report_document(report, plan, at=AT)))
    error_rate = response.json()["metrics"][1]
    assert error_rate["thresholds"]["max_relative_increase"] == 0.5
    assert error_rate["limit"] == pytest.approx(error_rate["baseline"]["mean"] * 1.5 + 0.002)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("track", "metadata", "status", "verdict"),
    [
        ("same", {}, 200, "pass"),
        ("worse", {}, 412, "fail"),
        ("trickle", {}, 412, "inconclusive"),
        ("trickle", {"allow_inconclusive": "true"}, 200, "inconclusive"),
        ("worse", {"metrics": "latency-p95, latency-p99", "alpha": "0.001"}, 412, "fail"),
    ],
)
def test_flagger_reads_the_status(
    canary_api: Api, track: str, metadata: dict[str, str], status: int, verdict: str
) -> None:
    response = canary_api.post(
        "/api/v1/canary/flagger", json=_flagger(track, **metadata), role="deploy"
    )
    assert response.status_code == status, response.text
    assert response.json()["verdict"] == verdict


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("viewer", 403), ("editor", 403)])
@pytest.mark.parametrize("path", ["/api/v1/canary/analyze", "/api/v1/canary/flagger"])
def test_a_deploy_token_is_needed(lite_api: Api, path: str, role: str | None, status: int) -> None:
    response = lite_api.post(path, json=_flagger("same"), role=role)
    assert response.status_code == status


def test_without_prometheus_it_is_unavailable(lite_api: Api) -> None:
    response = lite_api.post("/api/v1/canary/analyze", json=_body("same"), role="deploy")
    assert response.status_code == 503
    assert "SREKIT_PROMETHEUS_URL is not set" in response.json()["detail"]
    flagger = lite_api.post("/api/v1/canary/flagger", json=_flagger("same"), role="deploy")
    assert flagger.status_code == 503


def test_prometheus_down_is_unavailable_not_a_verdict(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    for api in _client(sqlite_engine, tmp_path, "http://127.0.0.1:9"):
        response = api.post("/api/v1/canary/analyze", json=_body("same"), role="deploy")
        assert response.status_code == 503
        assert "verdict" not in response.json()


def _loc(response: Any) -> list[Any]:
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return list(detail[0]["loc"])


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (_body("same", canary='app="x"} or vector(1) or {a="b"'), ["body", "canary"]),
        (_body("same", canary="a\x00b"), ["body", "canary"]),
        (_body("same", canary="\u202etrack"), ["body", "canary"]),
        (_body("same", baseline='app="shop",track="same"'), ["body", "baseline"]),
        (_body("same", canary="x" * 2001), ["body", "canary"]),
        (_body("same", window="forever"), ["body", "window"]),
        (_body("same", step="0s"), ["body", "step"]),
        (_body("same", window="1m", step="5m"), ["body", "window"]),
        (_body("same", window="1000d", step="1s"), ["body", "step"]),
        (_body("same", metrics=["latency-p50"]), ["body", "metrics", 0]),
        (_body("same", alpha=2), ["body", "alpha"]),
        (_body("same", min_intervals=0), ["body", "min_intervals"]),
        (_body("same", tolerances={"error-rate": {"relative": -1}}), None),
        (_body("same", errors_matchers="code=5xx"), ["body", "errors_matchers"]),
        (_body("same", requests_metric="a b"), ["body", "requests_metric"]),
        (_body("same", at="2999-01-01T00:00:00Z"), ["body", "at"]),
        (_body("same", at="yesterday"), ["body", "at"]),
        (_body("same", surprise=1), ["body", "surprise"]),
        ({"canary": 'track="x"'}, ["body", "baseline"]),
        ([1, 2], ["body"]),
    ],
)
def test_bad_input_is_422_naming_the_field(lite_api: Api, body: Any, loc: list[Any] | None) -> None:
    response = lite_api.post("/api/v1/canary/analyze", json=body, role="deploy")
    assert response.status_code == 422, response.text
    if loc is not None:
        assert _loc(response) == loc


@pytest.mark.parametrize(
    "text",
    [
        '{"canary": "track=\\"c\\"", "baseline": "track=\\"s\\"", "alpha": NaN}',
        '{"canary": "track=\\"c\\"", "baseline": "track=\\"s\\"", "min_requests": 1e309}',
        '{"canary": "track=\\"c\\"", "baseline": "track=\\"s\\"", "alpha": -Infinity}',
        '{"canary": ' + "[" * 500 + "]" * 500 + "}",
        "not json",
    ],
)
def test_hostile_json_is_422(lite_api: Api, text: str) -> None:
    headers = {**lite_api.headers("deploy"), "Content-Type": "application/json"}
    response = lite_api.client.post("/api/v1/canary/analyze", content=text, headers=headers)
    assert response.status_code == 422, response.text


def test_a_huge_body_is_413(lite_api: Api) -> None:
    body = _body("same", canary="x" * 2_000_000)
    response = lite_api.post("/api/v1/canary/analyze", json=body, role="deploy")
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("metadata", "loc"),
    [
        ({"surprise": "1"}, ["body", "metadata", "surprise"]),
        ({"alpha": "nan"}, ["body", "metadata", "alpha"]),
        ({"min_requests": "1e309"}, ["body", "metadata", "min_requests"]),
        ({"metrics": "error-rate,latency-p50"}, ["body", "metadata", "metrics", 1]),
        ({"allow_inconclusive": "maybe"}, ["body", "metadata", "allow_inconclusive"]),
        ({"canary": "up"}, ["body", "canary"]),
    ],
)
def test_flagger_bad_metadata_is_422(
    lite_api: Api, metadata: dict[str, str], loc: list[Any]
) -> None:
    response = lite_api.post(
        "/api/v1/canary/flagger", json=_flagger("same", **metadata), role="deploy"
    )
    assert response.status_code == 422, response.text
    assert _loc(response) == loc


def test_flagger_without_a_canary_is_422(lite_api: Api) -> None:
    payload = {"name": "shop", "metadata": {"baseline": STABLE}}
    response = lite_api.post("/api/v1/canary/flagger", json=payload, role="deploy")
    assert response.status_code == 422
    assert _loc(response) == ["body", "metadata", "canary"]


def _documented(kind: str) -> dict[str, Any]:
    """The YAML example of docs/canary.md whose `kind` is `kind`."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "canary.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", page, re.DOTALL):
        document = yaml.safe_load(block)
        if document.get("kind") == kind:
            return dict(document)
    raise AssertionError(f"docs/canary.md has no {kind}")


def test_the_documented_argo_template_asks_what_the_route_reads() -> None:
    metric = _documented("AnalysisTemplate")["spec"]["metrics"][0]
    assert metric["successCondition"] == 'result.verdict == "pass"'
    assert metric["failureCondition"] == 'result.verdict == "fail"'
    web = metric["provider"]["web"]
    assert web["url"].endswith("/api/v1/canary/analyze")
    assert web["method"] == "POST"
    # Argo fills in the placeholders: a value of its own for each will do here
    names: dict[str, str] = {}
    text = re.sub(
        r"\{\{[^}]*\}\}",
        lambda found: names.setdefault(found.group(), f"value{len(names)}"),
        json.dumps(web["jsonBody"]),
    )
    body = json.loads(text)
    request = CanaryAnalysisIn.model_validate(body)
    plan = plan_request(
        canary=request.canary,
        baseline=request.baseline,
        window=request.window,
        step=request.step,
        metrics=request.metrics,
        min_intervals=request.min_intervals,
    )
    assert plan.intervals >= plan.thresholds[plan.metrics[0]].min_intervals


def test_the_documented_flagger_webhook_is_accepted(lite_api: Api) -> None:
    webhook = _documented("Canary")["spec"]["analysis"]["webhooks"][0]
    assert webhook["type"] == "rollout"
    assert webhook["url"].endswith("/api/v1/canary/flagger")
    payload = {"name": "checkout", "namespace": "prod", "metadata": webhook["metadata"]}
    # past every check of the request: only the missing Prometheus stops it
    response = lite_api.post("/api/v1/canary/flagger", json=payload, role="deploy")
    assert response.status_code == 503, response.text
    assert "SREKIT_PROMETHEUS_URL is not set" in response.json()["detail"]


@pytest.mark.integration
def test_an_analysis_with_a_service_is_kept_and_listed(canary_api: Api) -> None:
    worse = canary_api.post(
        "/api/v1/canary/analyze", json={**_body("worse"), "service": "shop"}, role="deploy"
    )
    same = canary_api.post(
        "/api/v1/canary/flagger",
        json=_flagger("same", service="shop"),
        role="deploy",
    )
    unkept = canary_api.post("/api/v1/canary/analyze", json=_body("same"), role="deploy")
    assert (worse.status_code, same.status_code, unkept.status_code) == (200, 200, 200)
    kept = canary_api.get("/api/v1/canary/analyses?service=shop", role="viewer")
    assert kept.status_code == 200, kept.text
    listed = kept.json()
    assert [k["analysis"] for k in listed] == [same.json(), worse.json()]  # newest first
    assert [k["verdict"] for k in listed] == ["pass", "fail"]
    assert [k["recorded_by"] for k in listed] == ["deploy-bot", "deploy-bot"]
    # the highest confidence over the metrics, as each metric's document shows it
    for item in listed:
        assert item["confidence"] == max(m["confidence"] for m in item["analysis"]["metrics"])
    assert canary_api.get("/api/v1/canary/analyses?service=cart", role="viewer").json() == []
    assert len(canary_api.get("/api/v1/canary/analyses", role="viewer").json()) == 2
    refused = canary_api.post(
        "/api/v1/canary/analyze", json={**_body("worse"), "service": "Bad Name"}, role="deploy"
    )
    assert refused.status_code == 422
    assert "service" in refused.text
    assert canary_api.get("/api/v1/canary/analyses", role=None).status_code == 401
