"""The On-call page through its route: now and next per layer and the 14-day grid against the
API's `who` and `schedule`, the feeds' links, the handoff checklist rendered from Markdown with
raw HTML off, and hostile query values."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.web.conftest import Web, matched

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = yaml.safe_load((ROOT / "examples/oncall/payments.yaml").read_text())
for _layer in DOCUMENT["spec"]["layers"]:
    _layer["start"] = str(_layer["start"])  # JSON has no dates


def _store(web: Web, document: dict[str, Any] = DOCUMENT, name: str = "payments") -> None:
    answer = web.api("PUT", f"/api/v1/oncall/rotations/{name}", json=document)
    assert answer.status_code in (200, 201), answer.text


def _row(html: str, layer: str) -> str:
    found = re.search(rf'<tr data-layer="{layer}">(.*?)</tr>', html, re.S)
    assert found is not None
    return found.group(1)


def _field(row: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">(.*?)</td>', row, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", unescape(found.group(1))).split())


def test_no_rotation_says_how_to_store_one(web: Web) -> None:
    web.login("viewer")
    page = web.client.get("/ui/oncall")
    assert page.status_code == 200
    assert "No rotations stored" in page.text


def test_now_next_and_the_grid_are_the_apis(web: Web) -> None:
    _store(web)
    web.login("viewer")
    page = web.client.get("/ui/oncall").text
    who = web.api("GET", "/api/v1/oncall/rotations/payments/who").json()
    layers = [{"layer": name, **held} for name, held in who["layers"].items()]
    today = datetime.now(UTC).date()
    start = datetime.combine(today, time(), tzinfo=UTC)
    end = start + timedelta(days=14)
    schedule = web.api(
        "GET",
        "/api/v1/oncall/rotations/payments/schedule",
        params={"from": start.isoformat(), "to": end.isoformat()},
    ).json()
    shifts = schedule["shifts"]
    for held in layers:
        row = _row(page, held["layer"])
        assert _field(row, "now").split(" ")[0] == (held["member"] or "nobody")
        following = [
            s for s in shifts if s["layer"] == held["layer"] and s["start"] >= held["shift_end"]
        ]
        if following:
            assert _field(row, "next") == (following[0]["member"] or "nobody")
    # the grid: for each day and layer, the members whose shifts overlap the day (worked out
    # here from the API's schedule)
    names = [held["layer"] for held in layers]
    for offset in range(14):
        day = start + timedelta(days=offset)
        cells = matched(
            rf'<tr data-day="{day.date().isoformat()}">(.*?)</tr>', page, group=1, flags=re.S
        )
        shown = re.findall(r"<td[^>]*>([^<]*)</td>", cells)
        expected = []
        for layer in names:
            members = [
                s["member"] or "nobody"
                for s in shifts
                if s["layer"] == layer
                and datetime.fromisoformat(s["start"]) < day + timedelta(days=1)
                and datetime.fromisoformat(s["end"]) > day
            ]
            expected.append(", ".join(dict.fromkeys(members)) or "—")
        assert shown == expected, day
    assert 'href="/api/v1/oncall/rotations/payments/calendar.ics"' in page
    assert 'href="/api/v1/oncall/people/alice/calendar.ics"' in page
    # the subscribe link is signed and opens the feed without a token or a session
    subscribe = re.search(r'class="calendar-subscribe" href="([^"]+)"', page)
    assert subscribe is not None
    signed = unescape(subscribe.group(1))
    assert signed.startswith("/api/v1/oncall/rotations/payments/calendar.ics?sig=")
    web.client.cookies.clear()  # a calendar client: no session, no token
    feed = web.client.get(signed)
    assert feed.status_code == 200
    assert b"BEGIN:VCALENDAR" in feed.content


def test_the_handoff_checklist_is_the_apis_markdown_without_raw_html(web: Web) -> None:
    _store(web)
    assert (
        web.api(
            "POST",
            "/api/v1/incidents",
            json={"title": "<script>alert(1)</script> down", "severity": "P2"},
        ).status_code
        == 201
    )
    web.login("viewer")
    page = web.client.get("/ui/oncall?rotation=payments").text
    checklist = re.search(r'id="handoff-checklist">(.*?)</div>', page, re.S)
    assert checklist is not None
    markdown = web.api("GET", "/api/v1/oncall/rotations/payments/handoff?format=md").text
    title = markdown.splitlines()[0].lstrip("# ").strip()
    assert f"<h1>{title}</h1>" in unescape(checklist.group(1)) or title in unescape(
        checklist.group(1)
    )
    for heading in re.findall(r"^## (.+)$", markdown, re.M):
        assert f"<h2>{heading}</h2>" in unescape(checklist.group(1))
    assert "<script>" not in page


def test_an_unreadable_rotation_value_is_ignored(web: Web) -> None:
    _store(web)
    web.login("viewer")
    for query in ("rotation=%00", "rotation=" + "x" * 60_000, "rotation=nobody", "x=%ff"):
        answer = web.client.get(f"/ui/oncall?{query}")
        assert answer.status_code == 200
        assert 'id="handoff-checklist"' in answer.text  # the first rotation's, by default


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_the_page_has_no_forms_but_logout(web: Web, role: str) -> None:
    _store(web)
    web.login(role)
    page = web.client.get("/ui/oncall").text
    assert re.findall(r'<form method="post" action="([^"]+)"', page) == ["/ui/logout"]
