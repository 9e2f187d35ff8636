"""The dashboard through its routes: login and sessions, CSRF and roles, the Overview's and
the SLO list's figures against the statuses they come from, and hostile query values."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest

from srekit.web.pages.login import safe_next
from srekit.web.session import SESSION_COOKIE, SessionSigner
from tests.web.conftest import BASE, ORIGIN, Web, csrf_of, matched

# -- login, sessions, redirects ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ui/", "/ui/slos", "/ui/slos?state=met&sort=sli"])
def test_pages_redirect_to_login_without_a_session(web: Web, path: str) -> None:
    answer = web.client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ui/login?next=/ui/")
    assert "state%3Dmet" in answer.headers["location"] or "?" not in path


def test_root_leads_to_the_dashboard_and_htmx_is_told_to_reload(web: Web) -> None:
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/ui/"
    partial = web.client.get("/ui/slos", headers={"HX-Request": "true"}, follow_redirects=False)
    assert partial.status_code == 401
    assert partial.headers["HX-Redirect"] == "/ui/login?next=/ui/slos"


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_login_opens_a_session_with_safe_cookie_flags(web: Web, role: str) -> None:
    form = web.client.get("/ui/login?next=/ui/slos")
    assert form.status_code == 200
    assert 'value="/ui/slos"' in form.text
    answer = web.client.post(
        "/ui/login",
        data={"token": web.tokens[role], "csrf_token": csrf_of(form.text), "next": "/ui/slos"},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/slos"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/ui", "max-age=28800"} <= flags
    assert "secure" not in flags  # plain http here; https below
    assert web.tokens[role] not in cookie  # the token never reaches the browser
    page = web.client.get("/ui/slos")
    assert page.status_code == 200
    assert f"{role}-bot" in page.text


def test_the_cookie_is_secure_over_https(web: Web) -> None:
    form = web.client.get("https://testserver/ui/login")
    answer = web.client.post(
        "https://testserver/ui/login",
        data={"token": web.tokens["viewer"], "csrf_token": csrf_of(form.text)},
        headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "secure" in cookie.lower()


@pytest.mark.parametrize(
    ("token", "status", "says"),
    [
        ("srk_nothing", 401, "unknown or revoked"),
        ("", 401, "unknown or revoked"),
        ("x" * 5000, 401, "unknown or revoked"),
        ("deploy", 403, "the deploy role"),
        ("ingest", 403, "the ingest role"),
    ],
)
def test_refused_logins_say_why(web: Web, token: str, status: int, says: str) -> None:
    form = web.client.get("/ui/login")
    given = web.tokens.get(token, token)
    answer = web.client.post(
        "/ui/login",
        data={"token": given, "csrf_token": csrf_of(form.text)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == status
    assert says in unescape(answer.text)
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_login_needs_its_csrf_token_and_origin(web: Web) -> None:
    form = web.client.get("/ui/login")
    data = {"token": web.tokens["admin"], "csrf_token": csrf_of(form.text)}
    no_csrf = web.client.post(
        "/ui/login", data={"token": web.tokens["admin"]}, headers=ORIGIN, follow_redirects=False
    )
    assert no_csrf.status_code == 403
    other_site = web.client.post(
        "/ui/login", data=data, headers={"Origin": "http://evil.example"}, follow_redirects=False
    )
    assert other_site.status_code == 403
    no_origin = web.client.post("/ui/login", data=data, follow_redirects=False)
    assert no_origin.status_code == 403
    # each refusal hands out a new login form (and cookie): the old form's token is spent
    fresh = {"token": web.tokens["admin"], "csrf_token": csrf_of(no_origin.text)}
    same_site_referer = web.client.post(
        "/ui/login", data=fresh, headers={"Referer": f"{BASE}/ui/login"}, follow_redirects=False
    )
    assert same_site_referer.status_code == 303


def test_too_many_failed_logins_are_slowed_down(web: Web) -> None:
    statuses = []
    for _ in range(22):  # SREKIT_AUTH_FAILURE_LIMIT is 20 by default
        form = web.client.get("/ui/login")
        answer = web.client.post(
            "/ui/login",
            data={"token": "srk_wrong", "csrf_token": csrf_of(form.text)},
            headers=ORIGIN,
        )
        statuses.append(answer.status_code)
    assert statuses[0] == 401
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/ui/slos?state=met", "/ui/slos?state=met"),
        ("//evil.example/ui", "/ui/"),
        ("https://evil.example/ui", "/ui/"),
        ("/ui\\@evil.example", "/ui/"),
        ("/api/v1/tokens", "/ui/"),
        ("/ui/\r\nSet-Cookie: x", "/ui/"),
        (None, "/ui/"),
    ],
)
def test_after_login_only_dashboard_paths(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


def test_forged_and_expired_sessions_are_refused(web: Web) -> None:
    web.login("admin")
    good = web.client.cookies[SESSION_COOKIE]
    web.client.cookies.set(SESSION_COOKIE, good[:-4] + "0000", path="/ui")
    assert web.client.get("/ui/", follow_redirects=False).status_code == 303
    web.client.cookies.set(SESSION_COOKIE, "garbage", path="/ui")
    assert web.client.get("/ui/", follow_redirects=False).status_code == 303
    signer = SessionSigner(b"k" * 32)
    _, cookie = signer.new_session("digest", now=1000.0, ttl_s=60)
    assert signer.read_session(cookie, now=1059.0) is not None
    assert signer.read_session(cookie, now=1060.0) is None  # expired at its end
    assert SessionSigner(b"j" * 32).read_session(cookie, now=1000.0) is None  # another key


def test_revoking_the_token_ends_its_sessions(web: Web) -> None:
    web.login("viewer")
    assert web.client.get("/ui/", follow_redirects=False).status_code == 200
    assert web.api("DELETE", "/api/v1/tokens/viewer-bot").status_code == 204
    assert web.client.get("/ui/", follow_redirects=False).status_code == 303


def test_logout_needs_csrf_then_ends_the_session(web: Web) -> None:
    web.login("viewer")
    page = web.client.get("/ui/")
    refused = web.client.post(
        "/ui/logout", data={"csrf_token": "0" * 64}, headers=ORIGIN, follow_redirects=False
    )
    assert refused.status_code == 403
    answer = web.client.post(
        "/ui/logout",
        data={"csrf_token": csrf_of(page.text)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert web.client.get("/ui/", follow_redirects=False).status_code == 303


# -- roles and actions --------------------------------------------------------------------


def _declare(web: Web) -> int:
    answer = web.api(
        "POST",
        "/api/v1/incidents",
        json={"title": "checkout is down", "severity": "P2", "services": ["checkout"]},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_a_viewer_sees_no_actions_and_cannot_post_them(web: Web) -> None:
    number = _declare(web)
    web.login("viewer")
    page = web.client.get("/ui/")
    assert "checkout is down" in page.text
    assert "Acknowledge" not in page.text
    refused = web.client.post(
        f"/ui/incidents/{number}/acknowledge",
        data={"csrf_token": csrf_of(page.text)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "viewer" in refused.text
    assert web.api("GET", f"/api/v1/incidents/{number}").json()["state"] == "triggered"


def test_an_editor_acknowledges_with_csrf_and_origin(web: Web) -> None:
    number = _declare(web)
    web.login("editor")
    page = web.client.get("/ui/")
    assert f'action="/ui/incidents/{number}/acknowledge"' in page.text
    path = f"/ui/incidents/{number}/acknowledge"
    csrf = csrf_of(page.text)
    no_token = web.client.post(path, data={"x": "1"}, headers=ORIGIN, follow_redirects=False)
    wrong_origin = web.client.post(
        path,
        data={"csrf_token": csrf},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    not_a_form = web.client.post(
        path, content=b"{}", headers={**ORIGIN, "Content-Type": "application/json"}
    )
    assert (no_token.status_code, wrong_origin.status_code) == (403, 403)
    assert not_a_form.status_code == 415  # only a form can carry the CSRF token
    assert web.api("GET", f"/api/v1/incidents/{number}").json()["state"] == "triggered"
    done = web.client.post(path, data={"csrf_token": csrf}, headers=ORIGIN, follow_redirects=False)
    assert done.status_code == 303
    assert web.api("GET", f"/api/v1/incidents/{number}").json()["state"] == "acknowledged"
    again = web.client.post(path, data={"csrf_token": csrf}, headers=ORIGIN)
    assert again.status_code == 409
    missing = web.client.post(
        "/ui/incidents/999999/acknowledge", data={"csrf_token": csrf}, headers=ORIGIN
    )
    assert missing.status_code == 404


# -- the figures ---------------------------------------------------------------------------


def _row(html: str, slo: str) -> str:
    row = re.search(rf'<tr data-slo="{re.escape(slo)}">(.*?)</tr>', html, re.S)
    assert row is not None, f"no row for {slo}"
    return row.group(1)


def _cells(html: str, slo: str) -> dict[str, str]:
    """Each cell's text, by its label; the SVG inside a cell (its titles) left out."""
    cells = re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', _row(html, slo), re.S)
    return {
        label: " ".join(
            re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", cell, flags=re.S)).split()
        )
        for label, cell in cells
    }


def _field(html: str, slo: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">([^<]*)<', _row(html, slo))
    assert found is not None
    return found.group(1)


def _order(html: str) -> list[str]:
    return re.findall(r'<tr data-slo="([^"]+)">', html)


def test_the_slo_list_shows_the_api_figures_worst_budget_first(web: Web) -> None:
    web.login("viewer")
    page = web.client.get("/ui/slos")
    assert page.status_code == 200
    api = {f"{s['service']}/{s['slo']}": s for s in web.api("GET", "/api/v1/status").json()}
    # remaining −0.2, 0.1, 0.6, then the one without a figure
    assert _order(page.text) == [
        "checkout/availability",
        "checkout/latency",
        "catalog/availability",
        "catalog/good-minutes",
    ]
    for key, status in api.items():
        cells = _cells(page.text, key)
        remaining = status["error_budget"]["remaining"] if status["error_budget"] else None
        expected = "—" if remaining is None else f"{remaining:.1%}"
        assert _field(page.text, key, "remaining") == expected
        assert cells["Budget left"] == expected
        assert cells["Objective"] == f"{status['objective']:.3%}"
        for window in ("1h", "6h", "3d"):
            burn = status["burn_rates"][window]
            shown = "—" if burn is None else f"{burn:.2f}"
            assert _field(page.text, key, f"burn_{window}") == shown
        sli = status["sli"]
        assert cells["SLI"] == ("—" if sli is None else f"{sli:.3%}")
    assert _cells(page.text, "checkout/availability")["Team"] == "team-payments"
    assert _cells(page.text, "checkout/availability")["State"] == "Breached"
    assert _cells(page.text, "checkout/latency")["State"] == "At risk"
    assert _cells(page.text, "catalog/good-minutes")["State"] == "No data"
    assert _cells(page.text, "catalog/availability")["State"] == "Met"


def test_the_slo_list_pages_in_order_and_keeps_the_view(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 3 (instead of 100) over the 4 SLOs: page 1 the 3 worst, page 2 the last; the
    pages keep the sort and filters; a page past the end shows the last; a sort link goes back
    to page 1."""
    from srekit.web.pages import slos

    monkeypatch.setattr(slos, "PAGE_SIZE", 3)
    web.login("viewer")
    everything = [
        "checkout/availability",
        "checkout/latency",
        "catalog/availability",
        "catalog/good-minutes",
    ]
    first = web.client.get("/ui/slos").text
    assert _order(first) == everything[:3]
    assert "4 of 4 SLOs. Showing 1–3 (page 1 of 2)." in first
    assert 'href="/ui/slos?page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    second = web.client.get("/ui/slos?page=2").text
    assert _order(second) == everything[3:]
    assert 'href="/ui/slos" rel="prev"' in second
    assert 'rel="next"' not in second
    assert _order(web.client.get("/ui/slos?page=99").text) == everything[3:]
    assert "page=" not in re.findall(r'<a href="(/ui/slos\?sort=[^"]*)"', second)[0]
    descending = web.client.get("/ui/slos?sort=budget&dir=desc&page=2").text
    # best budget first: 0.6, 0.1, −0.2 on page 1; the SLO without a figure stays last
    assert _order(descending) == ["catalog/good-minutes"]
    assert 'href="/ui/slos?dir=desc" rel="prev"' in descending


def test_the_gate_column_is_the_gates_decision(web: Web) -> None:
    web.login("viewer")
    page = web.client.get("/ui/slos")
    for service in ("checkout", "catalog"):
        decision = web.api("GET", f"/api/v1/gate?service={service}&change_type=feature").json()[
            "decision"
        ]
        for key in _order(page.text):
            if key.startswith(f"{service}/"):
                assert _cells(page.text, key)["Gate"] == decision


def test_sort_filter_and_group_are_read_from_the_url(web: Web) -> None:
    web.login("viewer")
    by_name = web.client.get("/ui/slos?sort=slo&dir=desc").text
    assert [key.split("/")[1] for key in _order(by_name)] == [
        "latency",
        "good-minutes",
        "availability",
        "availability",
    ]
    assert 'aria-sort="descending"' in by_name
    checkout = web.client.get("/ui/slos?service=checkout").text
    assert _order(checkout) == ["checkout/availability", "checkout/latency"]
    at_risk = web.client.get("/ui/slos?state=at_risk").text
    assert _order(at_risk) == ["checkout/latency"]
    grouped = web.client.get("/ui/slos?group=label:tier").text
    groups = re.findall(r'<th scope="rowgroup"[^>]*>([^<]+)', grouped)
    assert [group.strip() for group in groups] == ["(no label)", "1", "2"]
    none = web.client.get("/ui/slos?team=nobody").text
    assert _order(none) == []
    assert "No SLOs match" in none


def test_htmx_gets_the_view_alone_and_a_plain_get_the_page(web: Web) -> None:
    web.login("viewer")
    partial = web.client.get("/ui/slos?state=breached", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="slo-view">')
    assert "<html" not in partial.text
    assert _order(partial.text) == ["checkout/availability"]
    whole = web.client.get("/ui/slos?state=breached")
    assert whole.text.lstrip().startswith("<!doctype html>")
    assert _order(whole.text) == ["checkout/availability"]


@pytest.mark.parametrize(
    "query",
    [
        "sort=NaN",
        "sort=1e309&dir=1e309",
        "state=NaN",
        "service=%00%01%1b",
        "team=" + "x" * 60_000,
        "group=label:%ff%fe",
        "group=" + "label:" * 1000,
        "state=met&state=breached&sort=sli&sort=budget",
        "service=%F0%9F%92%A5&team=%E2%80%AE",
        "dir=%0d%0aSet-Cookie:%20x=y",
    ],
)
def test_hostile_query_values_are_ignored(web: Web, query: str) -> None:
    web.login("viewer")
    for path in ("/ui/slos", "/ui/"):
        answer = web.client.get(f"{path}?{query}")
        assert answer.status_code < 500
        assert answer.status_code == 200
        assert "set-cookie: x" not in answer.text.lower()


def test_the_overview_counts_each_health_class(web: Web) -> None:
    web.login("viewer")
    page = web.client.get("/ui/").text
    counts = dict(re.findall(r'data-health="([a-z_]+)">(\d+)<', page))
    # met 0.6 left; at risk: 0.1 left and a firing alert; breached −0.2; no data
    assert counts == {"met": "1", "at_risk": "1", "breached": "1", "no_data": "1"}
    assert "checkout/latency" in matched(r'id="firing-alerts".*?</table>', page, flags=re.S)
    assert "No history recorded yet" in page
    assert page.count('class="heat-none"') == 4 * 30
    gates = matched(r'id="gates".*?</table>', page, flags=re.S)
    assert "checkout" in gates
    assert "catalog" in gates


def test_pages_send_a_strict_content_security_policy(web: Web) -> None:
    web.login("viewer")
    answer = web.client.get("/ui/slos")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["cache-control"] == "no-store"
    assert "<script>" not in answer.text  # no inline script: the policy would block it


@pytest.mark.parametrize(
    "path",
    [
        "/ui/static/vendor/htmx-2.0.11/htmx.min.js",
        "/ui/static/vendor/uplot-1.6.32/uPlot.iife.min.js",
        "/ui/static/srekit.css",
        "/ui/static/theme.js",
    ],
)
def test_static_files_are_served_with_a_long_cache(web: Web, path: str) -> None:
    answer = web.client.get(path)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert len(answer.content) > 500


def test_session_expiry_follows_the_setting(web: Web) -> None:
    signer = SessionSigner(b"s" * 32)
    now = time.time()
    session, _ = signer.new_session("d", now=now, ttl_s=28800)
    assert session.expires_at == int(now + 28800)
    assert signer.csrf_ok(session.session_id, signer.csrf_token(session.session_id))
    assert not signer.csrf_ok(session.session_id, "0" * 64)
    assert not signer.csrf_ok(session.session_id, None)


def test_the_overview_lists_the_worst_gates_first_and_says_how_many_more(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for one service, the gate table shows the first of the API's decisions
    ordered deny, review, allow (then by name), and says one more is not listed."""
    from srekit.web.pages import overview

    monkeypatch.setattr(overview, "GATE_ROWS", 1)
    web.login("viewer")
    page = web.client.get("/ui/").text
    rank = {"deny": 0, "review": 1, "allow": 2}
    decisions = {
        service: web.api("GET", f"/api/v1/gate?service={service}&change_type=feature").json()[
            "decision"
        ]
        for service in ("checkout", "catalog")
    }
    first = min(decisions, key=lambda service: (rank[decisions[service]], service))
    table = re.search(r'id="gates".*?</table>', page, re.S).group(0)  # type: ignore[union-attr]
    assert re.findall(r'data-label="Service">([^<]+)<', table) == [first]
    assert "1 more services are not listed here" in page
    monkeypatch.setattr(overview, "GATE_ROWS", 25)
    assert 'id="gates-more"' not in web.client.get("/ui/").text
