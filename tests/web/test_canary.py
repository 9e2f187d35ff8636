"""The Canary page through its route: the kept analyses with the API's figures, one
service's, hostile query values ignored, the nav entry, the login redirect."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import Engine

from srekit.core.canary import Verdict
from tests.canary_records import AT, keep
from tests.web.conftest import Web


def _cell(html: str, analysis_id: int, field: str) -> str:
    row = re.search(rf'<tr data-analysis="{analysis_id}">(.*?)</tr>', unescape(html), re.S)
    assert row is not None, html
    found = re.search(rf'data-field="{field}">(.*?)</td>', row.group(1), re.S)
    assert found is not None, row.group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_analyses_as_the_api_serves_them(web: Web, sqlite_engine: Engine) -> None:
    failed, _ = keep(sqlite_engine, "shop", Verdict.FAIL, (0.99991, 0.61))
    passed, _ = keep(sqlite_engine, "cart", Verdict.PASS, (0.2, None), now=AT + timedelta(hours=1))
    web.login("viewer")
    page = web.client.get("/ui/canary")
    assert page.status_code == 200
    listed = web.api("GET", "/api/v1/canary/analyses").json()
    assert re.findall(r'<tr data-analysis="(\d+)">', page.text) == [str(a["id"]) for a in listed]
    assert [a["id"] for a in listed] == [passed.id, failed.id]
    for item in listed:
        assert _cell(page.text, item["id"], "verdict") == item["verdict"]
        assert _cell(page.text, item["id"], "confidence") == f"{item['confidence']:.4f}"
    assert _cell(page.text, failed.id, "confidence") == "0.9999"  # max(0.99991, 0.61)
    assert _cell(page.text, failed.id, "metrics") == (
        "error-rate: fail, confidence 0.9999 latency-p95: fail, confidence 0.6100"
    )
    assert _cell(page.text, passed.id, "metrics") == (
        "error-rate: pass, confidence 0.2000 latency-p95: inconclusive"
    )
    assert _cell(page.text, failed.id, "window") == "30m to 2026-11-01T00:00:00Z"
    one = web.client.get("/ui/canary?service=shop")
    assert re.findall(r'<tr data-analysis="(\d+)">', one.text) == [str(failed.id)]
    assert 'href="/ui/canary"' in page.text  # the nav entry
    none = web.client.get("/ui/canary?service=nothing")
    assert 'id="canary-empty"' in none.text


@pytest.mark.parametrize("value", ["%00", "a%09b", "x" * 300, "Bad", "..", "%F0%9F%98%80"])
def test_hostile_query_values_are_ignored(web: Web, sqlite_engine: Engine, value: str) -> None:
    keep(sqlite_engine, "shop", Verdict.PASS, (0.1, 0.1))
    web.login("viewer")
    page = web.client.get(f"/ui/canary?service={value}")
    assert page.status_code == 200
    assert len(re.findall(r"<tr data-analysis=", page.text)) == 1  # the filter is dropped


def test_without_a_session_the_browser_goes_to_login(web: Web) -> None:
    web.client.cookies.clear()
    page = web.client.get("/ui/canary", follow_redirects=False)
    assert page.status_code in (302, 303)
    assert "/ui/login" in page.headers["location"]
