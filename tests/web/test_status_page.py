"""The public status page and badges through their routes: the banner from hand-built
statuses, the day bars' colours from hand-computed SLIs, the opt-in list respected, private
badges refused without a good signature, and hostile paths."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from srekit.core.incident import IncidentState, Severity
from srekit.core.status_page import BadgeKind, badge_path, sign_badge_path
from srekit.flows.history import compact_history
from srekit.flows.incidents import change_incident_state, declare_incident, note_incident
from srekit.flows.status_page import badge_secret
from srekit.spec.loader import load_specs
from srekit.store.database import transaction
from srekit.store.repo import apply_specs, record_snapshots
from tests.api.conftest import FakeEvaluator, TestClient, make_app, status_for
from tests.web.conftest import BASE, EXAMPLES

NOW = datetime.now(UTC).replace(microsecond=0)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def evaluator(sqlite_engine: Engine) -> FakeEvaluator:
    specs = load_specs([EXAMPLES / "slos"])
    with transaction(sqlite_engine) as session:
        apply_specs(session, specs=specs, actor="test", source_formats=specs.formats)
    found = FakeEvaluator()
    found.statuses = [
        status_for("catalog", "availability", 0.6),
        status_for("catalog", "good-minutes", 0.7),
        status_for("checkout", "availability", -0.2),
        status_for("checkout", "latency", 0.1),
    ]
    return found


def _client(
    engine: Engine, evaluator: FakeEvaluator, tmp_path: Path, services: str
) -> Iterator[TestClient]:
    app = make_app(engine, evaluator, tmp_path, status_page_services=services)
    with TestClient(app, base_url=BASE) as client:
        yield client


@pytest.fixture
def public(sqlite_engine: Engine, evaluator: FakeEvaluator, tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(sqlite_engine, evaluator, tmp_path, "catalog")


# -- the page --------------------------------------------------------------------------------


def _banner(html: str) -> str:
    start = html.index('class="banner')
    return html[html.index(">", start) + 1 : html.index("</p>", start)]


@pytest.mark.parametrize(
    ("remaining", "services", "expected"),
    [
        ({"availability": 0.6, "good-minutes": 0.7}, "catalog", "All systems operational"),
        ({"availability": 0.6, "good-minutes": 0.1}, "catalog", "Degraded performance"),
        ({"availability": 0.6, "good-minutes": -0.1}, "catalog", "Partial outage"),
        ({"availability": 0.0, "good-minutes": -0.1}, "catalog", "Major outage"),
        ({"availability": None, "good-minutes": None}, "catalog", "Status unavailable"),
        # checkout is breached on one SLO of two: partial, whatever catalog says
        ({"availability": 0.6, "good-minutes": 0.7}, "catalog,checkout", "Partial outage"),
    ],
)
def test_the_banner_follows_the_services_conditions(
    sqlite_engine: Engine,
    evaluator: FakeEvaluator,
    tmp_path: Path,
    remaining: dict[str, float | None],
    services: str,
    expected: str,
) -> None:
    evaluator.statuses = [
        status_for("catalog", name, value) for name, value in remaining.items()
    ] + evaluator.statuses[2:]
    for client in _client(sqlite_engine, evaluator, tmp_path, services):
        answer = client.get("/status")
        assert answer.status_code == 200
        assert _banner(answer.text) == expected


def test_nothing_is_published_without_an_opted_in_service(
    sqlite_engine: Engine, evaluator: FakeEvaluator, tmp_path: Path
) -> None:
    for client in _client(sqlite_engine, evaluator, tmp_path, ""):
        page = client.get("/status").text
        assert "No service publishes its status here." in page
        for name in ("catalog", "checkout", "availability", "banner"):
            assert name not in page


def test_only_opted_in_services_and_their_incidents_appear(
    public: TestClient, sqlite_engine: Engine
) -> None:
    opened = NOW - timedelta(hours=3)
    shown = declare_incident(
        sqlite_engine,
        title="Catalog search slow",
        severity=Severity.P2,
        actor="test",
        now=opened,
        services=["catalog", "checkout"],
    )
    note_incident(
        sqlite_engine,
        incident_id=shown.incident.id,
        actor="test",
        text="db password rotated on host secret-db-7",
        now=opened + timedelta(minutes=5),
    )
    change_incident_state(
        sqlite_engine,
        incident_id=shown.incident.id,
        to=IncidentState.ACKNOWLEDGED,
        actor="test",
        now=opened + timedelta(minutes=10),
    )
    change_incident_state(
        sqlite_engine,
        incident_id=shown.incident.id,
        to=IncidentState.MITIGATED,
        actor="test",
        now=opened + timedelta(minutes=30),
    )
    declare_incident(
        sqlite_engine,
        title="Checkout payments down",
        severity=Severity.P1,
        actor="test",
        now=opened,
        services=["checkout"],
    )
    page = public.get("/status").text
    assert "Catalog search slow" in page
    assert "Checkout payments down" not in page
    assert "checkout" not in page.lower().replace("catalog search slow", "")
    assert "secret-db-7" not in page
    updates = page[page.index("Catalog search slow") :]
    order = [updates.index(word) for word in ("Monitoring", "Identified", "Investigating")]
    assert order == sorted(order)
    assert "Resolved" not in updates


def _bar_colours(html: str, slo: str) -> list[str]:
    start = html.index(f'aria-label="catalog {slo}: daily SLI')
    svg_text = html[html.rindex("<svg", 0, start) : html.index("</svg>", start) + 6]
    root = ET.fromstring(svg_text)
    return [rect.get("class", "") for rect in root.iter(f"{SVG}rect")]


def test_day_bars_are_coloured_by_the_days_sli(public: TestClient, sqlite_engine: Engine) -> None:
    today = NOW.replace(hour=0, minute=0, second=0)
    # remaining r gives SLI 1 - 0.001 (1 - r) (objective 0.999): 0.5 → 0.9995 (met),
    # -1 → 0.998 (missed); two days ago met then missed the same day: the last hour counts.
    # The bars read the hourly rollups: compacted with a 1-hour raw horizon, the raw
    # snapshots are gone and the bars stay.
    readings = [
        (today - timedelta(days=2, hours=-1), 0.5),
        (today - timedelta(days=2, hours=-5), -1.0),
    ]
    readings.append((today - timedelta(days=1, hours=-3), 0.5))
    with transaction(sqlite_engine) as session:
        for moment, left in readings:
            status = status_for("catalog", "availability", left, at=moment)
            record_snapshots(session, statuses=[status])
    compact_history(sqlite_engine, now=datetime.now(UTC), raw_s=3600, hourly_s=400 * 86400)
    classes = _bar_colours(public.get("/status").text, "availability")
    assert len(classes) == 90
    assert classes[-3:] == ["day-bad", "day-good", "day-none"]
    assert set(classes[:-3]) == {"day-none"}
    page = public.get("/status").text
    # the 90-day figure: the mean of the days with a figure, (0.998 + 0.9995) / 2
    assert f"{(0.998 + 0.9995) / 2:.2%} over 90 days" in page


# -- badges ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [kind.value for kind in BadgeKind])
def test_public_badges_parse_and_validate(public: TestClient, kind: str) -> None:
    drawn = public.get(f"/badge/slo/catalog/availability/{kind}.svg")
    assert drawn.status_code == 200
    assert drawn.headers["cache-control"] == "no-cache"
    assert drawn.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(drawn.text)
    assert root.tag == f"{SVG}svg"
    endpoint = public.get(f"/badge/slo/catalog/availability/{kind}.json")
    assert endpoint.headers["cache-control"] == "no-cache"
    body = endpoint.json()
    assert set(body) == {"schemaVersion", "label", "message", "color"}
    assert body["schemaVersion"] == 1
    assert isinstance(body["label"], str)
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["color"] in {"brightgreen", "yellow", "orange", "red", "lightgrey"}
    assert body["message"] in drawn.text


def test_badge_figures_and_colours(public: TestClient) -> None:
    def face(kind: str) -> tuple[str, str]:
        body = public.get(f"/badge/slo/catalog/availability/{kind}.json").json()
        return body["message"], body["color"]

    # remaining 0.6: SLI 1 - 0.001 × 0.4 = 0.9996 ≥ 0.999
    assert face("sli") == ("99.96%", "brightgreen")
    assert face("budget") == ("60.0% left", "brightgreen")
    assert face("status") == ("met", "brightgreen")
    assert face("burn") == ("no data", "lightgrey")


def test_private_badges_need_a_good_signature(public: TestClient, sqlite_engine: Engine) -> None:
    path = "/badge/slo/checkout/availability/budget"
    assert public.get(f"{path}.svg").status_code == 404
    unknown = public.get("/badge/slo/checkout/nothing/budget.svg")
    refused = public.get(f"{path}.svg")
    assert (refused.status_code, refused.text) == (unknown.status_code, unknown.text)
    signature = sign_badge_path(
        badge_secret(sqlite_engine), badge_path("checkout", "availability", BadgeKind.BUDGET)
    )
    good = public.get(f"{path}.json?sig={signature}")
    assert good.status_code == 200
    assert good.json()["color"] == "red"  # -20 % left
    assert public.get(f"{path}.svg?sig={signature}").status_code == 200
    tampered = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert public.get(f"{path}.svg?sig={tampered}").status_code == 404
    other = "/badge/slo/checkout/latency/budget.svg"
    assert public.get(f"{other}?sig={signature}").status_code == 404  # another path's
    assert public.get(f"{path}.svg?sig=").status_code == 404
    assert public.get(f"{path}.svg?sig=%C3%A9%00").status_code in (404, 422)


@pytest.mark.parametrize(
    "path",
    [
        "/badge/slo/catalog/availability/NaN.svg",
        "/badge/slo/catalog/availability/sli.png",
        "/badge/slo/catalog/availability/sli",
        "/badge/slo/catalog/avail%00ability/sli.svg",
        "/badge/slo/cat%0Alog/availability/sli.svg",
        "/badge/slo/catalog/" + "a" * 5000 + "/sli.svg",
        "/badge/slo/../availability/sli.svg",
        "/badge/slo/catalog/availability/sli.svg.json",
    ],
)
def test_hostile_badge_paths_are_404(public: TestClient, path: str) -> None:
    assert public.get(path).status_code == 404


def test_status_page_ignores_hostile_query(public: TestClient) -> None:
    answer = public.get("/status?service=%00" + "x" * 5000)
    assert answer.status_code == 200
    assert "All systems operational" in answer.text


def test_an_overspent_budget_keeps_its_sign(
    sqlite_engine: Engine, evaluator: FakeEvaluator, tmp_path: Path
) -> None:
    evaluator.statuses = [replace(status_for("catalog", "availability", -0.25))]
    for client in _client(sqlite_engine, evaluator, tmp_path, "catalog"):
        body = client.get("/badge/slo/catalog/availability/budget.json").json()
        assert (body["message"], body["color"]) == ("-25.0% left", "red")


def test_badge_thresholds_out_of_order_are_refused_at_start(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from srekit.config import Settings

    with pytest.raises(ValidationError, match="badge budget thresholds"):
        Settings(home=tmp_path, badge_budget_green_above=0.2, badge_budget_yellow_above=0.3)
    with pytest.raises(ValidationError, match="badge burn thresholds"):
        Settings(home=tmp_path, badge_burn_yellow_from=7, badge_burn_red_from=6)
    assert Settings(home=tmp_path, status_page_services=" b, a,,a ").status_page_service_names == (
        "a",
        "b",
    )
