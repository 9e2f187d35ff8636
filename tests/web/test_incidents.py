"""The incidents pages through their routes: the list's filters against the API's list, the
detail page's facts, roles, tasks, timeline, post-mortem and budgets, the actions (editors
only, CSRF checked), and hostile query values."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.web.conftest import ORIGIN, Web, csrf_of, matched


def _declare(web: Web, title: str, severity: str, services: list[str], **extra: object) -> int:
    body = {"title": title, "severity": severity, "services": services, **extra}
    answer = web.api("POST", "/api/v1/incidents", json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _listed(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<tr data-incident="(\d+)">', html)]


def _api_ids(web: Web, query: str) -> list[int]:
    answer = web.api("GET", f"/api/v1/incidents?{query}")
    assert answer.status_code == 200
    return [int(item["id"]) for item in answer.json()]


def test_the_list_filters_as_the_api_does(web: Web) -> None:
    first = _declare(web, "checkout is down", "P1", ["checkout"])
    second = _declare(web, "catalog is slow", "P3", ["catalog"])
    third = _declare(web, "checkout errors", "P2", ["checkout"])
    assert web.api("POST", f"/api/v1/incidents/{third}/resolve").status_code == 200
    web.login("viewer")
    cases = {
        "": "",
        "state=all": "state=all",
        "state=resolved": "state=resolved",
        "severity=P1": "severity=P1",
        "service=checkout&state=all": "service=checkout&state=all",
        "service=catalog": "service=catalog",
    }
    for page_query, api_query in cases.items():
        page = web.client.get(f"/ui/incidents?{page_query}")
        assert page.status_code == 200
        assert _listed(page.text) == _api_ids(web, api_query), page_query
    assert _listed(web.client.get("/ui/incidents").text) == [second, first]  # newest first
    assert _listed(web.client.get("/ui/incidents?state=resolved").text) == [third]


def test_htmx_gets_the_table_alone(web: Web) -> None:
    number = _declare(web, "checkout is down", "P1", ["checkout"])
    web.login("viewer")
    partial = web.client.get("/ui/incidents?severity=P1", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="incident-view">')
    assert "<html" not in partial.text
    assert _listed(partial.text) == [number]


def test_the_detail_shows_the_incident_as_the_api_does(web: Web) -> None:
    number = _declare(
        web,
        "checkout is down",
        "P1",
        ["checkout"],
        slos=["checkout/availability"],
        commander="alice",
    )
    other = _declare(web, "checkout again", "P2", ["checkout"])
    assert (
        web.api("POST", f"/api/v1/incidents/{number}/notes", json={"text": "rolled back"})
    ).status_code == 200
    task = web.api(
        "POST", f"/api/v1/incidents/{number}/tasks", json={"title": "add a canary", "owner": "bob"}
    )
    assert task.status_code == 201
    web.login("viewer")
    page = web.client.get(f"/ui/incidents/{number}")
    assert page.status_code == 200
    text = unescape(page.text)
    api = web.api("GET", f"/api/v1/incidents/{number}").json()
    assert matched(r'id="incident-state">([^<]+)<', text, group=1) == api["state"]
    for entry in api["timeline"]:
        assert entry["text"] in text
    assert "rolled back" in text
    assert "add a canary" in text
    assert re.search(r"<td data-label=\"Role\">commander</td><td data-label=\"Person\">alice", text)
    shown_related = [int(n) for n in re.findall(r'<li><a href="/ui/incidents/(\d+)">', page.text)]
    assert shown_related == [item["id"] for item in api["related"]]  # alerts make them related
    assert f'href="/ui/incidents/{other}"' not in page.text
    # the budget section names the incident's SLO, with the figure or why it is unknown
    assert 'data-slo="checkout/availability"' in page.text
    assert "None yet" in text  # no post-mortem


def test_the_detail_links_the_postmortem_export(web: Web) -> None:
    number = _declare(web, "checkout is down", "P2", ["checkout"])
    assert web.api("POST", f"/api/v1/incidents/{number}/resolve").status_code == 200
    drafted = web.api("POST", f"/api/v1/incidents/{number}/postmortem")
    assert drafted.status_code == 201, drafted.text
    web.login("viewer")
    page = web.client.get(f"/ui/incidents/{number}")
    assert f'href="/ui/incidents/{number}/postmortem.html"' in page.text
    assert drafted.json()["state"] in page.text
    export = web.client.get(f"/ui/incidents/{number}/postmortem.html")
    api_export = web.api("GET", f"/api/v1/incidents/{number}/postmortem/export?format=html")
    assert export.status_code == 200
    assert export.text == api_export.text
    assert "script-src" not in export.headers["content-security-policy"]
    assert web.client.get("/ui/incidents/999999/postmortem.html").status_code == 404


def test_a_viewer_sees_no_actions_and_cannot_post_them(web: Web) -> None:
    number = _declare(web, "checkout is down", "P2", ["checkout"])
    web.login("viewer")
    page = web.client.get(f"/ui/incidents/{number}")
    assert '<form method="post" action="/ui/incidents/' not in page.text
    assert ">Acknowledge</button>" not in page.text
    assert ">Resolve</button>" not in page.text
    assert "Add note" not in page.text
    csrf = csrf_of(page.text)
    for action, data in (
        ("acknowledge", {}),
        ("resolve", {}),
        ("notes", {"text": "hello"}),
    ):
        refused = web.client.post(
            f"/ui/incidents/{number}/{action}",
            data={"csrf_token": csrf, **data},
            headers=ORIGIN,
            follow_redirects=False,
        )
        assert refused.status_code == 403, action
    api = web.api("GET", f"/api/v1/incidents/{number}").json()
    assert api["state"] == "triggered"
    assert not any("hello" in entry["text"] for entry in api["timeline"])


def test_an_editor_acknowledges_notes_and_resolves(web: Web) -> None:
    number = _declare(web, "checkout is down", "P2", ["checkout"])
    web.login("editor")
    page = web.client.get(f"/ui/incidents/{number}")
    assert f'action="/ui/incidents/{number}/acknowledge"' in page.text
    csrf = csrf_of(page.text)
    base = f"/ui/incidents/{number}"
    no_csrf = web.client.post(
        f"{base}/resolve", data={"x": "1"}, headers=ORIGIN, follow_redirects=False
    )
    evil = web.client.post(
        f"{base}/notes",
        data={"csrf_token": csrf, "text": "x"},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert (no_csrf.status_code, evil.status_code) == (403, 403)
    assert web.api("GET", f"/api/v1/incidents/{number}").json()["state"] == "triggered"
    done = web.client.post(
        f"{base}/acknowledge", data={"csrf_token": csrf}, headers=ORIGIN, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == base
    noted = web.client.post(
        f"{base}/notes",
        data={"csrf_token": csrf, "text": "<b>rolled back</b>"},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert noted.status_code == 303
    empty = web.client.post(f"{base}/notes", data={"csrf_token": csrf, "text": " "}, headers=ORIGIN)
    assert empty.status_code == 422
    resolved = web.client.post(
        f"{base}/resolve", data={"csrf_token": csrf}, headers=ORIGIN, follow_redirects=False
    )
    assert resolved.status_code == 303
    api = web.api("GET", f"/api/v1/incidents/{number}").json()
    assert api["state"] == "resolved"
    assert any(entry["text"] == "<b>rolled back</b>" for entry in api["timeline"])
    shown = web.client.get(base).text
    assert "&lt;b&gt;rolled back&lt;/b&gt;" in shown  # escaped, never markup
    assert "<b>rolled back</b>" not in shown
    again = web.client.post(f"{base}/resolve", data={"csrf_token": csrf}, headers=ORIGIN)
    assert again.status_code == 409
    missing = web.client.post(
        "/ui/incidents/999999/notes", data={"csrf_token": csrf, "text": "x"}, headers=ORIGIN
    )
    assert missing.status_code == 404


def test_the_overview_acknowledges_and_returns_there(web: Web) -> None:
    number = _declare(web, "checkout is down", "P2", ["checkout"])
    web.login("editor")
    page = web.client.get("/ui/")
    done = web.client.post(
        f"/ui/incidents/{number}/acknowledge",
        data={"csrf_token": csrf_of(page.text), "back": "overview"},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/ui/#incidents"


@pytest.mark.parametrize(
    "query",
    [
        "state=NaN",
        "severity=P9&state=%00",
        "service=" + "x" * 60_000,
        "service=%F0%9F%92%A5&severity=%E2%80%AE",
        "state=open&state=closed&severity=P1&severity=P2",
        "state=%0d%0aSet-Cookie:%20x=y",
    ],
)
def test_hostile_query_values_are_ignored(web: Web, query: str) -> None:
    web.login("viewer")
    answer = web.client.get(f"/ui/incidents?{query}")
    assert answer.status_code == 200
    assert "set-cookie: x" not in answer.text.lower()


@pytest.mark.parametrize("path", ["/ui/incidents/0", "/ui/incidents/abc", "/ui/incidents/1e309"])
def test_bad_incident_numbers_are_4xx(web: Web, path: str) -> None:
    web.login("viewer")
    assert 400 <= web.client.get(path).status_code < 500
    assert web.client.get("/ui/incidents/424242").status_code == 404
