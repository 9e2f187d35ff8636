"""Dashboard tests: the app on a migrated SQLite store holding the example SLOs, a token per
role, a fake evaluator whose statuses the tests set, and a client that logs in through the
form as a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from srekit.core.alerts import BurnRateAlert
from srekit.core.status import SloStatus
from srekit.spec.loader import load_specs
from srekit.store.database import transaction
from srekit.store.repo import apply_specs
from tests.api.conftest import FakeEvaluator, TestClient, make_app, make_tokens, status_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = "http://testserver"
ORIGIN = {"Origin": BASE}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def matched(pattern: str, text: str, *, group: int = 0, flags: int = 0) -> str:
    """Group `group` of the first match of `pattern` in `text`, which must match."""
    found = re.search(pattern, text, flags)
    assert found is not None, f"nothing in the page matches {pattern!r}"
    return found.group(group)


def example_statuses() -> list[SloStatus]:
    """One SLO per health class: met, at risk (10 % left), breached, no data; a ticket alert
    firing on the met one (which makes it at risk too: see the tests)."""
    firing = BurnRateAlert("ticket", "3d", "6h", 259200, 21600, 1.0, firing=True)
    return [
        replace(status_for("catalog", "availability", 0.6), labels={"tier": "2"}),
        status_for("catalog", "good-minutes", None),
        replace(status_for("checkout", "availability", -0.2), labels={"tier": "1"}),
        replace(status_for("checkout", "latency", 0.1), alerts=(firing,)),
    ]


class Web:
    """A TestClient that logs in through the form; `tokens` holds one token per role."""

    def __init__(self, client: TestClient, tokens: dict[str, str], evaluator: FakeEvaluator):
        self.client = client
        self.tokens = tokens
        self.evaluator = evaluator

    def login(self, role: str) -> None:
        self.client.cookies.clear()
        form = self.client.get("/ui/login")
        answer = self.client.post(
            "/ui/login",
            data={"token": self.tokens[role], "csrf_token": csrf_of(form.text), "next": "/ui/"},
            headers=ORIGIN,
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens['admin']}"}
        response: httpx.Response = self.client.request(method, path, headers=headers, **kwargs)
        return response


@pytest.fixture
def web(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Web]:
    specs = load_specs([EXAMPLES / "slos"])
    with transaction(sqlite_engine) as session:
        apply_specs(session, specs=specs, actor="test", source_formats=specs.formats)
    evaluator = FakeEvaluator()
    evaluator.statuses = example_statuses()
    tokens = make_tokens(sqlite_engine)
    with TestClient(make_app(sqlite_engine, evaluator, tmp_path), base_url=BASE) as client:
        yield Web(client, tokens, evaluator)
