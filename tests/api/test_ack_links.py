"""The acknowledgement link of a page: GET shows a page and never acknowledges; POST with the
token acknowledges as `link:<person>`, once; a token that is malformed, altered, foreign or
expired is 403 saying why; the link needs no bearer token, and nothing else does."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from srekit.api.deps import ApiState, required_role
from srekit.config import Settings
from srekit.core.notify import ack_token
from srekit.flows.notify import ack_secret, page_for, page_link
from tests.api.conftest import Api, FakeEvaluator, TestClient, make_app, make_tokens

HTML = {"Accept": "text/html,application/xhtml+xml"}
FORM = {**HTML, "Content-Type": "application/x-www-form-urlencoded"}


def _state(api: Api) -> ApiState:
    state: ApiState = api.client.app.state.srekit  # type: ignore[attr-defined]
    return state


def _declare(api: Api, title: str = "Checkout <down> & out") -> int:
    response = api.post(
        "/api/v1/incidents",
        json={"title": title, "severity": "P1", "services": ["checkout"]},
        role="editor",
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _token(api: Api, incident_id: int, *, person: str = "alice", ttl_s: float = 3600) -> str:
    state = _state(api)
    link = page_link(
        secret=ack_secret(state.engine, settings=state.settings),
        public_url="http://srekit.example:8000",
        incident_id=incident_id,
        person=person,
        now=datetime.now(UTC),
        ttl_s=ttl_s,
    )
    assert link.startswith(f"http://srekit.example:8000/api/v1/incidents/{incident_id}/ack?")
    return parse_qs(urlsplit(link).query)["token"][0]


def _incident(api: Api, incident_id: int) -> dict[str, object]:
    response = api.get(f"/api/v1/incidents/{incident_id}", role="viewer")
    assert response.status_code == 200
    document: dict[str, object] = response.json()
    return document


def test_get_shows_the_page_and_does_not_acknowledge(lite_api: Api) -> None:
    incident = _declare(lite_api)
    token = _token(lite_api, incident)
    for _ in range(3):  # a scanner, an unfurler, the person
        page = lite_api.client.get(f"/api/v1/incidents/{incident}/ack?token={token}", headers=HTML)
        assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"Incident {incident}: Checkout &lt;down&gt; &amp; out" in page.text
    assert '<form method="post" action="ack">' in page.text
    assert f'name="token" value="{token}"' in page.text
    assert "Acknowledge as alice" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert _incident(lite_api, incident)["state"] == "triggered"
    as_json = lite_api.client.get(f"/api/v1/incidents/{incident}/ack?token={token}")
    assert as_json.json() == {
        "incident_id": incident,
        "title": "Checkout <down> & out",
        "state": "triggered",
        "person": "alice",
        "detail": "POST the token to this URL to acknowledge",
    }


def test_the_button_acknowledges_once(lite_api: Api) -> None:
    incident = _declare(lite_api)
    token = _token(lite_api, incident, person="bob")
    pressed = lite_api.client.post(
        f"/api/v1/incidents/{incident}/ack", content=f"token={quote(token)}", headers=FORM
    )
    assert pressed.status_code == 200, pressed.text
    assert "Acknowledged by bob." in pressed.text
    stored = _incident(lite_api, incident)
    assert stored["state"] == "acknowledged"
    timeline = stored["timeline"]
    assert isinstance(timeline, list)
    ack = [entry for entry in timeline if entry["actor"] == "link:bob"]
    assert len(ack) == 1
    assert ack[0]["text"] == "acknowledged: through the link in a page"
    again = lite_api.client.post(f"/api/v1/incidents/{incident}/ack?token={token}")
    assert again.status_code == 200
    assert again.json() == {
        "incident_id": incident,
        "acknowledged": False,
        "state": "acknowledged",
        "person": "bob",
        "detail": f"incident {incident} already acknowledged: nothing changed",
    }
    page = lite_api.client.get(f"/api/v1/incidents/{incident}/ack?token={token}", headers=HTML)
    assert "It is acknowledged already" in page.text
    assert "<form" not in page.text
    timeline = _incident(lite_api, incident)["timeline"]
    assert isinstance(timeline, list)
    assert sum(entry["actor"] == "link:bob" for entry in timeline) == 1


def test_a_query_token_acknowledges_as_json(lite_api: Api) -> None:
    incident = _declare(lite_api)
    token = _token(lite_api, incident)
    answer = lite_api.client.post(f"/api/v1/incidents/{incident}/ack?token={token}")
    assert answer.status_code == 200
    assert answer.json()["acknowledged"] is True
    assert answer.json()["detail"] == f"incident {incident} acknowledged by alice"


def _refused(api: Api, incident: int, token: str, message: str) -> None:
    query = f"?token={quote(token, safe='')}"
    for method, headers in (("GET", HTML), ("GET", {}), ("POST", HTML), ("POST", {})):
        response = api.client.request(
            method, f"/api/v1/incidents/{incident}/ack{query}", headers=headers
        )
        assert response.status_code == 403, (method, headers, response.text[:300])
        if headers:
            assert response.headers["content-type"].startswith("text/html")
            assert "This link cannot be used" in response.text
            assert message in response.text
        else:
            assert response.headers["content-type"].startswith("application/json")
            assert message in response.json()["detail"]
    form = api.client.post(
        f"/api/v1/incidents/{incident}/ack", content=f"token={quote(token)}", headers=FORM
    )
    assert form.status_code == 403
    assert _incident(api, incident)["state"] == "triggered"


def test_an_expired_link_is_refused(lite_api: Api) -> None:
    incident = _declare(lite_api)
    secret = ack_secret(_state(lite_api).engine, settings=_state(lite_api).settings)
    token = ack_token(
        secret,
        incident_id=incident,
        person="alice",
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    _refused(lite_api, incident, token, "this acknowledgement link expired at")


def test_a_tampered_link_is_refused(lite_api: Api) -> None:
    incident = _declare(lite_api)
    token = _token(lite_api, incident)
    version, _claims, signature = token.split(".")
    forged = ack_token(
        b"a secret srekit never had",
        incident_id=incident,
        person="mallory",
        expires_at=datetime.now(UTC) + timedelta(days=365),
    )
    tampered = ".".join([version, forged.split(".")[1], signature])
    _refused(lite_api, incident, tampered, "signature does not match")
    _refused(lite_api, incident, forged, "signature does not match")


def test_another_incidents_link_is_refused(lite_api: Api) -> None:
    first, second = _declare(lite_api), _declare(lite_api, "another")
    _refused(
        lite_api,
        second,
        _token(lite_api, first),
        f"this acknowledgement link is for incident {first}, not incident {second}",
    )


MALFORMED = "not a valid srekit link"
FORGED = "signature does not match"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "the link has no token"),
        ("NaN", MALFORMED),
        ("1e309", MALFORMED),
        ("-Infinity", MALFORMED),
        ("a1.NaN.NaN", FORGED),  # well formed, signed by no one
        ("\x00", MALFORMED),
        ("a1.\x07\x1b[31m.x", MALFORMED),
        ("é" * 50, MALFORMED),
        ("a1." + "A" * 5000 + ".B", MALFORMED),
        ("a1.e30.AAAA\r\nSet-Cookie: x=y", MALFORMED),
    ],
)
def test_hostile_tokens_are_403_without_a_trace(lite_api: Api, token: str, message: str) -> None:
    incident = _declare(lite_api)
    _refused(lite_api, incident, token, message)


def test_hostile_bodies_are_refused(lite_api: Api) -> None:
    incident = _declare(lite_api)
    url = f"/api/v1/incidents/{incident}/ack"
    for body in (
        b"token=%FF%FE",
        b"\xff\xfe\x00",
        b"token=" + b"A" * 200_000,
        b'{"token": NaN}',
        b"&".join([b"x=1"] * 10_000),
    ):
        response = lite_api.client.post(url, content=body, headers=FORM)
        assert response.status_code == 403, response.text[:200]
    huge = lite_api.client.post(url, content=b"token=" + b"A" * 2_000_000, headers=FORM)
    assert huge.status_code == 413
    assert _incident(lite_api, incident)["state"] == "triggered"


def test_no_token_and_unknown_incidents(lite_api: Api) -> None:
    incident = _declare(lite_api)
    missing = lite_api.client.get(f"/api/v1/incidents/{incident}/ack")
    assert missing.status_code == 403
    assert missing.json() == {"detail": "the link has no token"}
    token = _token(lite_api, 999)
    unknown = lite_api.client.post(f"/api/v1/incidents/999/ack?token={token}")
    assert unknown.status_code == 404
    assert lite_api.client.get("/api/v1/incidents/0/ack?token=x").status_code == 422


def test_a_configured_secret_replaces_the_stored_one(sqlite_engine: Engine, tmp_path: Path) -> None:
    tokens = make_tokens(sqlite_engine)
    configured = "a secret of the operator's choosing"
    app = make_app(sqlite_engine, FakeEvaluator(), tmp_path, ack_link_secret=configured)
    with TestClient(app) as client:
        state: ApiState = client.app.state.srekit  # type: ignore[attr-defined]
        api = Api(client, tokens, FakeEvaluator())
        incident = _declare(api)
        stored = ack_secret(state.engine, settings=Settings(home=tmp_path))
        assert ack_secret(state.engine, settings=state.settings) == configured.encode()
        expires = datetime.now(UTC) + timedelta(hours=1)
        by_store = ack_token(stored, incident_id=incident, person="a", expires_at=expires)
        by_setting = ack_token(
            configured.encode(), incident_id=incident, person="a", expires_at=expires
        )
        assert client.post(f"/api/v1/incidents/{incident}/ack?token={by_store}").status_code == 403
        assert (
            client.post(f"/api/v1/incidents/{incident}/ack?token={by_setting}").status_code == 200
        )


def test_page_for_builds_the_page_of_a_stored_incident(lite_api: Api, tmp_path: Path) -> None:
    incident = _declare(lite_api)
    state = _state(lite_api)
    settings = Settings(home=tmp_path, public_url="https://srekit.example/", ack_link_ttl_s=600)
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    page = page_for(
        state.engine, incident_id=incident, person="carol", step=2, settings=settings, now=now
    )
    assert (page.incident_id, page.person, page.step, page.at) == (incident, "carol", 2, now)
    assert page.services == ("checkout",)
    assert page.incident_url == f"https://srekit.example/api/v1/incidents/{incident}"
    token = parse_qs(urlsplit(page.ack_url).query)["token"][0]
    assert page.ack_url.startswith(f"{page.incident_url}/ack?token=")
    secret = ack_secret(state.engine, settings=settings)
    assert token == ack_token(
        secret, incident_id=incident, person="carol", expires_at=now + timedelta(seconds=600)
    )


def _routes() -> Iterator[APIRoute]:
    import srekit.api.routes as package

    for module in pkgutil.iter_modules(package.__path__):
        router = importlib.import_module(f"srekit.api.routes.{module.name}").router
        yield from (route for route in router.routes if isinstance(route, APIRoute))


def test_only_the_link_and_the_calendars_take_no_bearer_token() -> None:
    public = {
        (method, route.path)
        for route in _routes()
        if required_role(route.dependant) is None and route.path.startswith("/api/")
        for method in route.methods or ()
    }
    assert public == {
        ("GET", "/api/v1/gate"),  # authenticates inside, to refuse in the gate's own shape
        ("GET", "/api/v1/incidents/{incident_id}/ack"),
        ("POST", "/api/v1/incidents/{incident_id}/ack"),
        # calendar clients send no headers: these take a bearer or a viewer's ?token= inside
        ("GET", "/api/v1/oncall/rotations/{name}/calendar.ics"),
        ("GET", "/api/v1/oncall/people/{name}/calendar.ics"),
    }
