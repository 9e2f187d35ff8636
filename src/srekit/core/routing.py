"""Alert routing: which alerts open incidents, of which severity, for which service, grouped how.

A routing is an ordered list of routes; the first route whose matchers all hold takes the alert
(Alertmanager's `continue: false`). Matchers compare label values: `match` by equality,
`match_re` by a regular expression anchored at both ends, as Alertmanager anchors its own (RE2,
linear in the value: `core.label_regex`). An
alert no route takes is kept and listed, never dropped: `route_alert` answers None for it.

Severity: the route's own, else the alert's `severity` label read through `severity_labels`
(srekit's burn-rate rules label `page` and `ticket`), else P3. Service: the `service_label`
label, else the `srekit_service` label srekit's own rules set, else none; the SLO is
`srekit_service/srekit_slo` when the alert carries both. Alerts of one route with equal
`group_by` labels make one incident while it is open; grouping by the service label groups by
the service found as above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from srekit.core.incident import Severity
from srekit.core.label_regex import compile_label_regex, label_regex_matches

__all__ = [
    "DEFAULT_GROUP_BY",
    "DEFAULT_ROUTING",
    "DEFAULT_SEVERITY_LABELS",
    "SREKIT_SERVICE",
    "SREKIT_SLO",
    "AlertRoute",
    "AlertRouting",
    "OnResolved",
    "RoutedAlert",
    "route_alert",
]

#: The labels srekit's own recording and alerting rules put on every series of an SLO.
SREKIT_SERVICE = "srekit_service"
SREKIT_SLO = "srekit_slo"
DEFAULT_GROUP_BY: tuple[str, ...] = ("alertname", "service")
DEFAULT_SEVERITY_LABELS: Mapping[str, Severity] = {
    "critical": Severity.P0,
    "page": Severity.P1,
    "warning": Severity.P2,
    "ticket": Severity.P3,
}


class OnResolved(StrEnum):
    """What the last of an incident's alerts resolving does: resolve it, or leave it to people."""

    RESOLVE = "resolve"
    KEEP = "keep"


@dataclass(frozen=True)
class AlertRoute:
    """One route: matchers, whether its alerts open incidents, their severity and grouping."""

    match: Mapping[str, str] = field(default_factory=dict)
    match_re: Mapping[str, str] = field(default_factory=dict)
    incident: bool = True
    severity: Severity | None = None
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY

    def __post_init__(self) -> None:
        for label, pattern in self.match_re.items():
            try:
                compile_label_regex(pattern)
            except ValueError as error:
                raise ValueError(f"match_re.{label}: not a regular expression: {error}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Every matcher holds; a missing label is the empty string, as in Alertmanager."""
        return all(labels.get(k, "") == v for k, v in self.match.items()) and all(
            label_regex_matches(pattern, labels.get(k, "")) for k, pattern in self.match_re.items()
        )


@dataclass(frozen=True)
class AlertRouting:
    """A named routing: routes in order, where the service comes from, what resolution does."""

    name: str = "default"
    routes: tuple[AlertRoute, ...] = ()
    service_label: str = "service"
    on_resolved: OnResolved = OnResolved.RESOLVE
    severity_labels: Mapping[str, Severity] = field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_LABELS)
    )


#: What holds until a routing is applied: srekit's own burn-rate alerts open incidents.
DEFAULT_ROUTING = AlertRouting(
    routes=(
        AlertRoute(match={"severity": "page"}, severity=Severity.P1),
        AlertRoute(match={"severity": "ticket"}, severity=Severity.P3),
    )
)


@dataclass(frozen=True)
class RoutedAlert:
    """Where the routing sends one alert: the route's position, and for an incident its
    severity, service and grouping key."""

    route_index: int
    incident: bool
    severity: Severity
    service: str | None
    slo: str | None
    group_key: str


def route_alert(routing: AlertRouting, labels: Mapping[str, str]) -> RoutedAlert | None:
    """The first route taking an alert with these labels, or None when none does.

    The group key is the route's position with its `group_by` labels and values, so alerts of
    different routes never share an incident.
    """
    for index, route in enumerate(routing.routes):
        if not route.matches(labels):
            continue
        severity = route.severity or routing.severity_labels.get(
            labels.get("severity", ""), Severity.P3
        )
        service = labels.get(routing.service_label) or labels.get(SREKIT_SERVICE) or None
        values = {**labels, routing.service_label: service or ""}
        grouping = ",".join(f"{name}={values.get(name, '')!r}" for name in route.group_by)
        slo_name = labels.get(SREKIT_SLO)
        return RoutedAlert(
            route_index=index,
            incident=route.incident,
            severity=severity,
            service=service,
            slo=f"{labels[SREKIT_SERVICE]}/{slo_name}"
            if slo_name and labels.get(SREKIT_SERVICE)
            else None,
            group_key=f"{routing.name}/{index}{{{grouping}}}",
        )
    return None
