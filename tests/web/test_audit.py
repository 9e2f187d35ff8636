"""The Audit page through its route: the change log as `GET /api/v1/audit` lists it, newest
first, filtered by kind and actor and paged from the URL; its JSON escaped; hostile values."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from tests.web.conftest import Web, matched


def _shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-audit="(\d+)">', html)]


def _api(web: Web, query: str = "") -> list[dict[str, Any]]:
    answer = web.api("GET", f"/api/v1/audit?limit=10000{query}")
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()
    return found


@pytest.fixture
def changed(web: Web) -> Web:
    for number in range(3):
        answer = web.api(
            "POST",
            "/api/v1/incidents",
            json={"title": f"<i>down</i> {number}", "severity": "P3", "services": ["checkout"]},
        )
        assert answer.status_code == 201
    return web


def test_the_log_is_the_apis_newest_first(changed: Web) -> None:
    web = changed
    web.login("viewer")
    page = web.client.get("/ui/audit?limit=500")
    assert page.status_code == 200
    api = _api(web)
    assert len(api) > 3  # the example SLOs applied, tokens made, incidents declared
    assert _shown(page.text) == [item["id"] for item in api][:500]
    text = unescape(page.text)
    for item in api[:20]:
        row = matched(rf'<tr data-audit="{item["id"]}">(.*?)</tr>', text, group=1, flags=re.S)
        assert f'<td data-label="Actor">{item["actor"]}</td>' in row
        assert f'<td data-label="Entity">{item["entity_id"]}</td>' in row
    assert "<i>down</i>" not in page.text  # the JSON is escaped
    assert "&lt;i&gt;down&lt;/i&gt;" in page.text


def test_filters_by_kind_and_actor(changed: Web) -> None:
    web = changed
    web.login("viewer")
    kinds = sorted({item["entity_kind"] for item in _api(web)})
    assert len(kinds) >= 2
    for kind in kinds:
        expected = [item["id"] for item in _api(web, f"&entity_kind={kind}")][:500]
        assert _shown(web.client.get(f"/ui/audit?kind={kind}&limit=500").text) == expected
    actors = {item["actor"] for item in _api(web)}
    for actor in actors:
        expected = [item["id"] for item in _api(web) if item["actor"] == actor][:50]
        assert _shown(web.client.get("/ui/audit", params={"actor": actor}).text) == expected
    assert _shown(web.client.get("/ui/audit?actor=nobody-at-all").text) == []


def test_pages_follow_limit_and_offset(changed: Web) -> None:
    web = changed
    web.login("viewer")
    ids = [item["id"] for item in _api(web)]
    assert _shown(web.client.get("/ui/audit?limit=2").text) == ids[:2]
    second = web.client.get("/ui/audit?limit=2&offset=2").text
    assert _shown(second) == ids[2:4]
    assert 'href="/ui/audit?limit=2"' in second
    assert 'href="/ui/audit?limit=2&amp;offset=4"' in second
    end = web.client.get(f"/ui/audit?limit=2&offset={len(ids)}").text
    assert _shown(end) == []
    assert 'rel="next"' not in end


@pytest.mark.parametrize(
    "query",
    [
        "kind=nothing&limit=0",
        "kind=%00&actor=%1b",
        "limit=1e309&offset=-1",
        "actor=" + "x" * 60_000,
        "kind=slo&kind=token&limit=1&limit=2",
        "offset=99999999999999999999",
    ],
)
def test_hostile_query_values_are_ignored(changed: Web, query: str) -> None:
    changed.login("viewer")
    answer = changed.client.get(f"/ui/audit?{query}")
    assert answer.status_code == 200
    assert len(_shown(answer.text)) <= 50
