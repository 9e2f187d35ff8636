"""Alert routing: first match wins, severities, services and group keys."""

from __future__ import annotations

import pytest

from srekit.core.incident import Severity
from srekit.core.routing import (
    DEFAULT_ROUTING,
    AlertRoute,
    AlertRouting,
    OnResolved,
    route_alert,
)


def test_the_default_routing_opens_incidents_for_srekits_own_alerts() -> None:
    page = route_alert(
        DEFAULT_ROUTING,
        {"alertname": "SloBurnRate", "severity": "page", "service": "checkout"},
    )
    ticket = route_alert(
        DEFAULT_ROUTING,
        {"alertname": "SloBurnRate", "severity": "ticket", "service": "checkout"},
    )
    assert page is not None
    assert ticket is not None
    assert (page.severity, page.service, page.incident) == (Severity.P1, "checkout", True)
    assert ticket.severity is Severity.P3
    assert ticket.route_index == 1
    assert page.group_key != ticket.group_key
    assert route_alert(DEFAULT_ROUTING, {"alertname": "Watchdog"}) is None
    assert DEFAULT_ROUTING.on_resolved is OnResolved.RESOLVE


def test_first_match_wins_and_regexes_are_anchored() -> None:
    routing = AlertRouting(
        name="team",
        routes=(
            AlertRoute(match_re={"alertname": "Checkout.*"}, group_by=("alertname",)),
            AlertRoute(match={"team": "payments"}, incident=False),
        ),
        service_label="app",
    )
    checkout = route_alert(routing, {"alertname": "CheckoutDown", "severity": "critical"})
    assert checkout is not None
    assert (checkout.route_index, checkout.severity, checkout.service) == (0, Severity.P0, None)
    assert checkout.group_key == "team/0{alertname='CheckoutDown'}"
    # anchored: "Checkout" must begin the name
    other = route_alert(routing, {"alertname": "MyCheckoutDown", "team": "payments", "app": "x"})
    assert other is not None
    assert (other.route_index, other.incident, other.service) == (1, False, "x")
    assert other.severity is Severity.P3  # no severity label: the lowest


def test_alerts_with_equal_group_labels_share_a_key() -> None:
    labels = {"alertname": "SloBurnRate", "severity": "page", "service": "checkout"}
    first = route_alert(DEFAULT_ROUTING, {**labels, "slo": "availability"})
    second = route_alert(DEFAULT_ROUTING, {**labels, "slo": "latency"})
    third = route_alert(DEFAULT_ROUTING, {**labels, "service": "search"})
    assert first is not None
    assert second is not None
    assert third is not None
    assert first.group_key == second.group_key != third.group_key


def test_a_missing_label_matches_the_empty_string() -> None:
    route = AlertRoute(match={"env": ""}, match_re={"team": "|ops"})
    assert route.matches({})
    assert not route.matches({"env": "prod"})


def test_a_bad_regex_is_refused_with_its_label() -> None:
    with pytest.raises(ValueError, match=r"match_re.alertname: not a regular expression"):
        AlertRoute(match_re={"alertname": "("})


def test_srekits_own_alerts_name_their_service_and_slo() -> None:
    labels = {
        "alertname": "CheckoutAvailabilityErrorBudgetBurn",
        "severity": "page",
        "srekit_service": "checkout",
        "srekit_slo": "availability",
    }
    routed = route_alert(DEFAULT_ROUTING, labels)
    assert routed is not None
    assert (routed.service, routed.slo) == ("checkout", "checkout/availability")
    # grouping by "service" groups by the service found in srekit_service
    assert "service='checkout'" in routed.group_key
    plain = route_alert(DEFAULT_ROUTING, {"severity": "page", "srekit_slo": "x"})
    assert plain is not None
    assert (plain.service, plain.slo) == (None, None)
