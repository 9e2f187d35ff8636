"""The Capacity page through its route: the latest recorded plan per service and resource,
its figures as the API recorded them, the recommendation and the forecast SVG."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from tests.capacity_plans import forecast_request
from tests.web.conftest import Web


def _record(web: Web, service: str, at: str, slope: float) -> dict[str, Any]:
    body = forecast_request(service, at, slope=slope, per_pod_capacity=2)
    answer = web.api("POST", "/api/v1/capacity/forecast", json=body)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def test_the_page_shows_each_resources_latest_plan(web: Web) -> None:
    _record(web, "checkout", "2026-03-30T00:00:00Z", 0.01)
    latest = _record(web, "checkout", "2026-03-31T00:00:00Z", 0.05)
    _record(web, "search", "2026-03-31T00:00:00Z", 0.01)
    web.login("viewer")
    page = web.client.get("/ui/capacity")
    assert page.status_code == 200
    text = unescape(page.text)
    sections = re.findall(r'<section class="capacity-plan" data-service="(\w+)"', text)
    assert sections == ["checkout", "search"]
    checkout = text[text.index('data-service="checkout"') : text.index('data-service="search"')]
    (cpu,) = latest["resources"]
    scale_by = cpu["recommendation"]["scale_by"]
    assert f"Scale to {cpu['recommendation']['scale_to']:.2f} cores by" in checkout
    assert f'<time datetime="{scale_by}">{scale_by[:10]}</time>' in checkout
    assert f">{cpu['recommendation']['replicas']}" in checkout
    assert "2026-03-31T00:00:00Z" in checkout
    assert checkout.count("<svg") == 1
    assert 'class="band-95"' in checkout
    assert 'href="/ui/capacity"' in text  # the nav entry
    only = unescape(web.client.get("/ui/capacity?service=search").text)
    assert re.findall(r'data-service="(\w+)"', only) == ["search"]


def test_an_empty_store_and_hostile_queries_answer_200(web: Web) -> None:
    web.login("viewer")
    page = web.client.get("/ui/capacity")
    assert page.status_code == 200
    assert 'id="capacity-empty"' in page.text
    for query in ("service=" + "x" * 5000, "service=%00%1b", "service=%F0%9F%92%A5"):
        answer = web.client.get(f"/ui/capacity?{query}")
        assert answer.status_code == 200, query


def test_the_page_needs_a_login(web: Web) -> None:
    answer = web.client.get("/ui/capacity", follow_redirects=False)
    assert answer.status_code in (303, 307)
    assert "/ui/login" in answer.headers["location"]
