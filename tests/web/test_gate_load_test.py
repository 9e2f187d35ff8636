"""The dashboard's gate verdicts are the gate API's, the load-test requirement included: with
`SREKIT_GATE_LOAD_TEST_FOR=feature` a service without a passed load test is denied by
`GET /api/v1/gate` and shown denied, with the same reason, on the Overview, the SLO list and
the SLO's page; once a passing load run is stored, all of them allow it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from srekit.spec.loader import load_specs
from srekit.store.database import transaction
from srekit.store.repo import apply_specs
from tests.api.conftest import FakeEvaluator, TestClient, make_app, make_tokens, status_for
from tests.cli.test_load_gate import BASELINE, CANDIDATE
from tests.web.conftest import BASE, EXAMPLES, Web

SERVICES = ("catalog", "checkout")


@pytest.fixture
def gated(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Web]:
    """The dashboard of a server whose gate needs a passed load test (7 days at most) for
    feature deploys; every SLO healthy, so only the load test can deny."""
    specs = load_specs([EXAMPLES / "slos"])
    with transaction(sqlite_engine) as session:
        apply_specs(session, specs=specs, actor="test", source_formats=specs.formats)
    evaluator = FakeEvaluator()
    evaluator.statuses = [
        status_for("catalog", "availability", 0.6),
        status_for("catalog", "good-minutes", 0.8),
        status_for("checkout", "availability", 0.7),
        status_for("checkout", "latency", 0.9),
    ]
    tokens = make_tokens(sqlite_engine)
    app = make_app(
        sqlite_engine,
        evaluator,
        tmp_path,
        gate_load_test_for="feature",
        gate_load_test_max_age_days=7,
    )
    with TestClient(app, base_url=BASE) as client:
        yield Web(client, tokens, evaluator)


def _api_gate(web: Web, service: str) -> dict[str, object]:
    """The gate API's answer for a feature deploy of `service`."""
    answer = web.client.get(
        "/api/v1/gate",
        params={"service": service, "change_type": "feature"},
        headers={"Authorization": f"Bearer {web.tokens['deploy']}"},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _overview_gates(page: str) -> dict[str, tuple[str, str]]:
    """The Overview's gate table: per service, the decision and the reason shown."""
    table = re.search(r'id="gates".*?</table>', page, re.S)
    assert table is not None, "no gate table on the Overview"
    rows = re.findall(
        r'data-label="Service">([^<]+)</td>.*?class="pill gate-[a-z]+">([a-z]+)</span>'
        r'.*?data-label="Why">([^<]*)</td>',
        table.group(0),
        re.S,
    )
    return {service: (decision, html.unescape(why)) for service, decision, why in rows}


def _list_gates(page: str) -> dict[str, tuple[str, str]]:
    """The SLO list's gate pills: per SLO key, the decision and the reason in its title."""
    found: dict[str, tuple[str, str]] = {}
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S):
        key = re.search(r'href="/ui/slos/([^/"]+)/([^/"?]+)"', row)
        gate = re.search(r'<span class="pill gate-[a-z]+" title="([^"]*)">([a-z]+)</span>', row)
        if key and gate:
            found[f"{key.group(1)}/{key.group(2)}"] = (gate.group(2), html.unescape(gate.group(1)))
    return found


def _detail_gate(page: str) -> tuple[str, str]:
    """The SLO page's gate tile: the decision and its explanation."""
    shown = re.search(r'data-field="gate"><span class="pill gate-[a-z]+">([a-z]+)</span>', page)
    explained = re.search(r'data-explain="gate">([^<]*)</p>', page)
    assert shown is not None, "no gate tile on the SLO page"
    assert explained is not None, "no explanation of the gate tile"
    return shown.group(1), html.unescape(explained.group(1))


def _pages_agree_with_the_api(web: Web) -> dict[str, tuple[str, str]]:
    """Every page's verdict and reason equal the API's for each service; the API's answers."""
    answers = {service: _api_gate(web, service) for service in SERVICES}
    expected = {
        service: (str(answer["decision"]), str((answer["reasons"] or [""])[0]))  # type: ignore[index]
        for service, answer in answers.items()
    }
    web.login("viewer")
    assert _overview_gates(web.client.get("/ui/").text) == expected
    listed = _list_gates(web.client.get("/ui/slos").text)
    assert len(listed) == 4
    for key, shown in listed.items():
        assert shown == expected[key.split("/")[0]], key
    for service in SERVICES:
        decision, reason = _detail_gate(web.client.get(f"/ui/slos/{service}/availability").text)
        assert decision == expected[service][0]
        reasons = answers[service]["reasons"]
        assert isinstance(reasons, list)
        assert reason == f"state {answers[service]['state']}: " + (
            "; ".join(reasons) or "no reason given"
        )
    return expected


def _pass_a_load_test(web: Web, service: str) -> None:
    """A baseline, then a candidate the load gate passes: a passed run is stored."""
    editor = {"Authorization": f"Bearer {web.tokens['editor']}"}
    uploaded = web.client.post(
        f"/api/v1/load/{service}/results", content=BASELINE.read_bytes(), headers=editor
    )
    assert uploaded.status_code == 201, uploaded.text
    made = web.client.post(
        f"/api/v1/load/{service}/baselines", json={"run_id": uploaded.json()["id"]}, headers=editor
    )
    assert made.status_code == 201, made.text
    gated = web.client.post(
        f"/api/v1/load/{service}/gate",
        content=CANDIDATE.read_bytes(),
        headers={"Authorization": f"Bearer {web.tokens['deploy']}"},
    )
    assert gated.status_code == 200, gated.text
    assert gated.json()["passed"] is True


def test_a_missing_load_test_denies_on_every_page_as_the_api_does(gated: Web) -> None:
    expected = _pages_agree_with_the_api(gated)
    for service in SERVICES:
        assert expected[service] == (
            "deny",
            f"feature deploys need a passed load test and {service} has none in the last 7 days",
        )


def test_a_passing_load_run_turns_the_service_to_allow_everywhere(gated: Web) -> None:
    _pass_a_load_test(gated, "checkout")
    expected = _pages_agree_with_the_api(gated)
    assert expected["checkout"][0] == "allow"
    assert "load test" not in expected["checkout"][1]
    assert expected["catalog"][0] == "deny"  # its own load test is still missing
