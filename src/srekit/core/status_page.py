"""The public status page and SLO badges: what a service's SLOs say to the outside world.

A service's condition comes from its SLOs' health classes (`core.dashboard.slo_health`), named
as Atlassian Statuspage names a component's:

    no_data               no SLO of the service has a fresh figure
    major_outage          every SLO with a figure is breached (no budget left)
    partial_outage        some, not all, of them are breached
    degraded_performance  none breached, one at risk (< 25 % budget left or an alert firing)
    operational           otherwise

The banner over the page takes the services with a figure: *Major outage* when every one is in
major outage, *Partial outage* when any is in partial or major outage, *Degraded performance*
when any is degraded, *All systems operational* otherwise; *Status unavailable* when no
service has a figure. An incident's public state follows srekit's lifecycle: triggered →
investigating, acknowledged → identified, mitigated → monitoring, resolved or closed →
resolved. Badge paths of SLOs not on the page are signed with HMAC-SHA256 (`sign_badge_path`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from srekit.core.dashboard import SloHealth, slo_health
from srekit.core.incident import Incident, IncidentState
from srekit.core.status import SloStatus

__all__ = [
    "BANNER_LABELS",
    "CONDITION_LABELS",
    "PUBLIC_STATE_LABELS",
    "BadgeFace",
    "BadgeKind",
    "BadgeThresholds",
    "Banner",
    "Condition",
    "PublicState",
    "badge_face",
    "badge_path",
    "banner",
    "mean_sli",
    "public_state",
    "public_updates",
    "service_condition",
    "sign_badge_path",
    "signature_matches",
]


class Condition(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded_performance"
    PARTIAL = "partial_outage"
    MAJOR = "major_outage"
    NO_DATA = "no_data"


CONDITION_LABELS: dict[Condition, str] = {
    Condition.OPERATIONAL: "Operational",
    Condition.DEGRADED: "Degraded performance",
    Condition.PARTIAL: "Partial outage",
    Condition.MAJOR: "Major outage",
    Condition.NO_DATA: "No data",
}


class Banner(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded_performance"
    PARTIAL = "partial_outage"
    MAJOR = "major_outage"
    UNAVAILABLE = "unavailable"


BANNER_LABELS: dict[Banner, str] = {
    Banner.OPERATIONAL: "All systems operational",
    Banner.DEGRADED: "Degraded performance",
    Banner.PARTIAL: "Partial outage",
    Banner.MAJOR: "Major outage",
    Banner.UNAVAILABLE: "Status unavailable",
}


def service_condition(healths: Iterable[SloHealth]) -> Condition:
    """A service's condition from its SLOs' health classes (see the module's table)."""
    known = [health for health in healths if health is not SloHealth.NO_DATA]
    if not known:
        return Condition.NO_DATA
    breached = sum(1 for health in known if health is SloHealth.BREACHED)
    if breached == len(known):
        return Condition.MAJOR
    if breached:
        return Condition.PARTIAL
    if SloHealth.AT_RISK in known:
        return Condition.DEGRADED
    return Condition.OPERATIONAL


def banner(conditions: Iterable[Condition]) -> Banner:
    """The page's banner from its services' conditions (see the module's rules)."""
    known = [condition for condition in conditions if condition is not Condition.NO_DATA]
    if not known:
        return Banner.UNAVAILABLE
    if all(condition is Condition.MAJOR for condition in known):
        return Banner.MAJOR
    if any(condition in (Condition.MAJOR, Condition.PARTIAL) for condition in known):
        return Banner.PARTIAL
    if Condition.DEGRADED in known:
        return Banner.DEGRADED
    return Banner.OPERATIONAL


def mean_sli(slis: Sequence[float | None]) -> float | None:
    """The mean of the finite SLIs of `slis` (a service's 90 daily bars): days without a
    figure count for nothing, neither good nor bad; None when no day has one."""
    known = [sli for sli in slis if sli is not None and math.isfinite(sli)]
    return sum(known) / len(known) if known else None


class PublicState(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


PUBLIC_STATE_LABELS: dict[PublicState, str] = {state: state.value.title() for state in PublicState}

_PUBLIC: dict[IncidentState, PublicState] = {
    IncidentState.TRIGGERED: PublicState.INVESTIGATING,
    IncidentState.ACKNOWLEDGED: PublicState.IDENTIFIED,
    IncidentState.MITIGATED: PublicState.MONITORING,
    IncidentState.RESOLVED: PublicState.RESOLVED,
    IncidentState.CLOSED: PublicState.RESOLVED,
}


def public_state(state: IncidentState) -> PublicState:
    """The status page's name for an incident state."""
    return _PUBLIC[state]


def public_updates(incident: Incident, *, at: datetime) -> tuple[tuple[PublicState, datetime], ...]:
    """The incident's public updates up to `at`, newest first: investigating at its opening,
    then identified, monitoring and resolved at the instants it reached them (resolved at
    `resolved_at`, else at `closed_at`). A later state reached first hides none: each is
    shown at its own instant."""
    moments = (
        (PublicState.INVESTIGATING, incident.opened_at),
        (PublicState.IDENTIFIED, incident.acknowledged_at),
        (PublicState.MONITORING, incident.mitigated_at),
        (PublicState.RESOLVED, incident.resolved_at or incident.closed_at),
    )
    reached = [(state, moment) for state, moment in moments if moment is not None and moment <= at]
    return tuple(sorted(reached, key=lambda item: item[1], reverse=True))


class BadgeKind(StrEnum):
    SLI = "sli"
    BUDGET = "budget"
    BURN = "burn"
    STATUS = "status"


@dataclass(frozen=True)
class BadgeThresholds:
    """Where a badge changes colour: remaining budget above `budget_green_above` is green,
    above `budget_yellow_above` yellow, above 0 orange, else red; a 1-hour burn rate below
    `burn_yellow_from` is green, below `burn_red_from` orange, else red."""

    budget_green_above: float = 0.5
    budget_yellow_above: float = 0.25
    burn_yellow_from: float = 1.0
    burn_red_from: float = 6.0

    def __post_init__(self) -> None:
        if not 0 <= self.budget_yellow_above <= self.budget_green_above <= 1:
            raise ValueError(
                "badge budget thresholds: expected 0 ≤ yellow ≤ green ≤ 1, got"
                f" yellow {self.budget_yellow_above}, green {self.budget_green_above}"
            )
        if not 0 < self.burn_yellow_from <= self.burn_red_from < math.inf:
            raise ValueError(
                "badge burn thresholds: expected 0 < yellow ≤ red, got"
                f" yellow {self.burn_yellow_from}, red {self.burn_red_from}"
            )


@dataclass(frozen=True)
class BadgeFace:
    """What a badge says: shields.io's endpoint fields (`color` is a shields colour name)."""

    label: str
    message: str
    color: str


_LABELS = {
    BadgeKind.SLI: "SLI",
    BadgeKind.BUDGET: "error budget",
    BadgeKind.BURN: "burn rate 1h",
    BadgeKind.STATUS: "SLO",
}
_HEALTH_FACES = {
    SloHealth.MET: ("met", "brightgreen"),
    SloHealth.AT_RISK: ("at risk", "orange"),
    SloHealth.BREACHED: ("breached", "red"),
    SloHealth.NO_DATA: ("no data", "lightgrey"),
}
_NO_DATA = ("no data", "lightgrey")


def _sli_message(sli: float) -> str:
    """A percentage to 2 decimals, rounded down: 99.996 % is not 100 %."""
    return f"{math.floor(sli * 10_000) / 100:.2f}%"


def badge_face(
    status: SloStatus | None, kind: BadgeKind, *, thresholds: BadgeThresholds
) -> BadgeFace:
    """The badge of `kind` for an SLO's `status` (None: no figure yet, a grey *no data*).

    sli: the SLI over the SLO window, green when it meets the objective, red when not.
    budget: the remaining error budget, coloured by `thresholds`. burn: the 1-hour burn rate,
    coloured by `thresholds`. status: the health class (`core.dashboard.slo_health`).
    A figure that is missing or not finite reads *no data*.
    """
    label = _LABELS[kind]
    message, color = _NO_DATA
    if status is not None and kind is BadgeKind.STATUS:
        message, color = _HEALTH_FACES[slo_health(status)]
    elif status is not None and kind is BadgeKind.SLI:
        sli = status.sli
        if sli is not None and math.isfinite(sli):
            message = _sli_message(sli)
            color = "brightgreen" if sli >= status.objective else "red"
    elif status is not None and kind is BadgeKind.BUDGET:
        remaining = status.error_budget.remaining if status.error_budget else None
        if remaining is not None and math.isfinite(remaining):
            message = f"{remaining:.1%} left"
            if remaining > thresholds.budget_green_above:
                color = "brightgreen"
            elif remaining > thresholds.budget_yellow_above:
                color = "yellow"
            else:
                color = "orange" if remaining > 0 else "red"
    elif status is not None and kind is BadgeKind.BURN:
        burn = status.burn_rates.get("1h")
        if burn is not None and math.isfinite(burn):
            message = f"{burn:.2f}x"
            if burn < thresholds.burn_yellow_from:
                color = "brightgreen"
            else:
                color = "orange" if burn < thresholds.burn_red_from else "red"
    return BadgeFace(label, message, color)


def badge_path(service: str, slo: str, kind: BadgeKind) -> str:
    """The path a badge's signature covers: `/badge/slo/<service>/<slo>/<kind>`, names
    percent-encoded, no extension (the SVG and its JSON twin share one signature)."""
    return f"/badge/slo/{quote(service, safe='')}/{quote(slo, safe='')}/{kind.value}"


def sign_badge_path(secret: bytes, path: str) -> str:
    """HMAC-SHA256 of `path` under `secret`, as 64 hex digits."""
    return hmac.new(secret, path.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: bytes, path: str, signature: str) -> bool:
    """Whether `signature` is `path`'s, compared in constant time."""
    return hmac.compare_digest(
        sign_badge_path(secret, path).encode(), signature.encode("utf-8", "replace")
    )
