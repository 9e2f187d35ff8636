"""The Deployments page through its route: the gate's recorded answers with their reasons,
newest first, filtered and paged from the URL, against `GET /api/v1/deployments`."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.web.conftest import Web, matched


def _ask(web: Web, service: str, version: str) -> bool:
    answer = web.api("GET", f"/api/v1/gate?service={service}&change_type=feature&version={version}")
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["allowed"])


def _shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-deployment="(\d+)">', html)]


def _api(web: Web, query: str = "") -> list[dict[str, object]]:
    answer = web.api("GET", f"/api/v1/deployments?limit=10000{query}")
    assert answer.status_code == 200
    found: list[dict[str, object]] = answer.json()
    return found


@pytest.fixture
def asked(web: Web) -> Web:
    for number in range(7):
        _ask(web, "checkout", f"v{number}")  # breached: denied
        _ask(web, "catalog", f"v{number}")
    return web


def test_the_list_is_the_apis_newest_first_with_reasons(asked: Web) -> None:
    web = asked
    web.login("viewer")
    page = web.client.get("/ui/deployments?limit=500")
    assert page.status_code == 200
    api = _api(web)
    assert len(api) == 14
    assert _shown(page.text) == [item["id"] for item in api]
    text = unescape(page.text)
    for item in api:
        row = matched(rf'<tr data-deployment="{item["id"]}">(.*?)</tr>', text, group=1, flags=re.S)
        for reason in item["reasons"]:  # type: ignore[attr-defined]
            assert f"<li>{reason}</li>" in row
        answer = "allowed" if item["allowed"] else "denied"
        assert f">{answer}</span>" in row


def test_filters_by_service_and_answer(asked: Web) -> None:
    web = asked
    web.login("viewer")
    api = _api(web)
    denied = [item["id"] for item in api if not item["allowed"]]
    allowed_checkout = [
        item["id"] for item in api if item["allowed"] and item["service"] == "checkout"
    ]
    assert denied  # the breached service is denied
    assert _shown(web.client.get("/ui/deployments?allowed=no&limit=500").text) == denied
    shown = web.client.get("/ui/deployments?allowed=yes&service=checkout&limit=500").text
    assert _shown(shown) == allowed_checkout
    catalog = [item["id"] for item in _api(web, "&service=catalog")]
    assert _shown(web.client.get("/ui/deployments?service=catalog").text) == catalog


def test_pages_follow_limit_and_offset(asked: Web) -> None:
    web = asked
    web.login("viewer")
    ids = [item["id"] for item in _api(web)]
    first = web.client.get("/ui/deployments?limit=5").text
    assert _shown(first) == ids[:5]
    assert 'href="/ui/deployments?limit=5&amp;offset=5"' in first
    assert 'rel="prev"' not in first
    middle = web.client.get("/ui/deployments?limit=5&offset=5").text
    assert _shown(middle) == ids[5:10]
    assert 'href="/ui/deployments?limit=5"' in middle  # back to the first page
    last = web.client.get("/ui/deployments?limit=5&offset=10").text
    assert _shown(last) == ids[10:]
    assert 'rel="next"' not in last
    partial = web.client.get("/ui/deployments?limit=5", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="deployment-view">')


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-1&offset=-5",
        "limit=1e309&offset=NaN",
        "limit=99999999999999999999",
        "offset=%00",
        "allowed=maybe&service=%F0%9F%92%A5",
        "service=" + "x" * 60_000,
        "limit=%EF%BC%95",  # a full-width digit
    ],
)
def test_hostile_query_values_are_ignored(asked: Web, query: str) -> None:
    web = asked
    web.login("viewer")
    answer = web.client.get(f"/ui/deployments?{query}")
    assert answer.status_code == 200
    assert len(_shown(answer.text)) <= 50


def test_the_page_has_no_forms_but_logout(asked: Web) -> None:
    asked.login("admin")
    page = asked.client.get("/ui/deployments").text
    assert re.findall(r'<form method="post" action="([^"]+)"', page) == ["/ui/logout"]
