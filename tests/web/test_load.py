"""The Load tests page through its route: runs with the API's figures and verdicts, the
baselines of one service, hostile query values ignored."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.cli.test_load_gate import BASELINE, CANDIDATE, k6_export
from tests.web.conftest import Web


def _row(html: str, run_id: int) -> str:
    found = re.search(rf'<tr data-run="{run_id}">(.*?)</tr>', unescape(html), re.S)
    assert found is not None, html
    return found.group(1)


def _cell(row: str, field: str) -> str:
    found = re.search(rf'data-field="{field}">(.*?)</td>', row, re.S)
    assert found is not None, row
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_runs_and_baselines_as_the_api_serves_them(web: Web) -> None:
    base = web.api("POST", "/api/v1/load/checkout/results", content=BASELINE.read_bytes()).json()
    web.api("POST", "/api/v1/load/checkout/baselines", json={"run_id": base["id"]})
    gated = web.api("POST", "/api/v1/load/checkout/gate", content=CANDIDATE.read_bytes()).json()
    failed = web.api(
        "POST", "/api/v1/load/catalog/gate", content=k6_export(10.0, count=20)
    ).json()  # too few requests: inconclusive
    web.login("viewer")
    page = web.client.get("/ui/load")
    assert page.status_code == 200
    assert re.findall(r'<tr data-run="(\d+)">', page.text) == [
        str(failed["run_id"]),
        str(gated["run_id"]),
        str(base["id"]),
    ]
    row = _row(page.text, gated["run_id"])
    summary = gated["summary"]
    duration = next(m for m in summary["metrics"] if m["name"] == "http_req_duration")
    assert _cell(row, "requests") == str(summary["requests"])
    assert _cell(row, "p95") == f"{duration['p95']:.4g}"
    assert _cell(row, "error_rate") == f"{summary['error_rate']:.2%}"
    assert _cell(row, "throughput") == f"{summary['throughput']:.2f}"
    assert _cell(row, "verdict") == "pass vs v1"
    assert _cell(_row(page.text, base["id"]), "verdict") == "imported"
    assert "the run has 20 requests, fewer than 100" in unescape(page.text)
    one = web.client.get("/ui/load?service=checkout")
    assert re.findall(r'<tr data-baseline="(\d+)">', one.text) == ["1"]
    assert f'data-run="{failed["run_id"]}"' not in one.text
    none = web.client.get("/ui/load?service=catalog")
    assert "catalog has no baseline" in none.text
    assert 'href="/ui/load"' in page.text  # the nav entry


@pytest.mark.parametrize("value", ["%00", "a%09b", "x" * 300, "Bad", "..", "%F0%9F%98%80"])
def test_hostile_query_values_are_ignored(web: Web, value: str) -> None:
    web.login("viewer")
    page = web.client.get(f"/ui/load?service={value}")
    assert page.status_code == 200
    assert "Baselines of" not in page.text


def test_without_a_session_the_browser_goes_to_login(web: Web) -> None:
    web.client.cookies.clear()
    page = web.client.get("/ui/load", follow_redirects=False)
    assert page.status_code in (302, 303)
    assert "/ui/login" in page.headers["location"]


def test_a_failing_tag_row_names_its_tag(web: Web) -> None:
    from tests.api.test_load import _slower_suggest
    from tests.cli.test_load_gate import LOCUST

    base = web.api("POST", "/api/v1/load/search/results", content=LOCUST.read_bytes()).json()
    web.api("POST", "/api/v1/load/search/baselines", json={"run_id": base["id"]})
    gated = web.api("POST", "/api/v1/load/search/gate", content=_slower_suggest("40")).json()
    assert gated["outcome"] == "fail"
    web.login("viewer")
    page = unescape(web.client.get("/ui/load?service=search").text)
    assert "<li>p95 method:GET,name:/suggest: fail — +14 ms (+53.8%) over the baseline" in page
