"""The Chaos page through its route: the stored runs per service with their outcome,
deviations and budget consumed, the same as `GET /api/v1/chaos/runs`; hostile query values
are ignored, never a 500."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

from sqlalchemy import Engine

from srekit.store.database import transaction
from srekit.store.repo.chaos import record_chaos_run
from tests.web.conftest import Web

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _journal(start: datetime, *, status: str, deviated: bool, title: str) -> dict[str, Any]:
    return {
        "experiment": {"title": title},
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=1)).isoformat(),
        "status": status,
        "deviated": deviated,
        "steady_states": {
            "before": None,
            "during": [],
            "after": {
                "probes": [{"activity": {"name": "p99<300ms"}, "tolerance_met": not deviated}]
            },
        },
        "run": [],
        "rollbacks": [],
    }


def _store(engine: Engine) -> None:
    with transaction(engine) as session:
        record_chaos_run(
            session,
            journal=_journal(AT, status="completed", deviated=False, title="slow payments"),
            service="checkout",
            budget_consumed=0.0123,
        )
        record_chaos_run(
            session,
            journal=_journal(
                AT + timedelta(hours=1), status="completed", deviated=True, title="<b>db down</b>"
            ),
            service="search",
        )


def _rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-run="(\d+)">(.*?)</tr>', unescape(html), re.S))


def test_runs_are_shown_as_the_api_lists_them(web: Web, sqlite_engine: Engine) -> None:
    web.login("viewer")
    empty = web.client.get("/ui/chaos")
    assert empty.status_code == 200
    assert "No chaos runs" in empty.text
    _store(sqlite_engine)
    page = web.client.get("/ui/chaos")
    api = web.api("GET", "/api/v1/chaos/runs").json()
    rows = _rows(page.text)
    assert list(rows) == [str(run["id"]) for run in api]  # newest first, as the API
    checkout = rows[str(api[1]["id"])]
    assert ">passed</span>" in checkout
    assert "1.230%" in checkout  # 0.0123 of the budget, three digits
    search = rows[str(api[0]["id"])]
    assert '>completed</span> <span class="small">(deviated)</span>' in search
    assert "<li>after: p99<300ms</li>" in search
    assert "&lt;b&gt;db down&lt;/b&gt;" in page.text  # escaped, never markup
    assert 'href="/ui/chaos"' in page.text  # in the nav


def test_the_service_filter_and_hostile_values(web: Web, sqlite_engine: Engine) -> None:
    _store(sqlite_engine)
    web.login("viewer")
    only = _rows(web.client.get("/ui/chaos?service=checkout").text)
    assert len(only) == 1
    for hostile in ("a%00b", "x" * 5000, "%E2%80%AE", "1e309", "NaN"):
        page = web.client.get(f"/ui/chaos?service={hostile}&limit={hostile}")
        assert page.status_code == 200, hostile
    none = web.client.get("/ui/chaos?service=billing")
    assert "No chaos runs for billing" in none.text
    web.client.cookies.clear()
    assert web.client.get("/ui/chaos", follow_redirects=False).status_code in (302, 303, 307)
