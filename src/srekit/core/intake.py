"""Alert intake rules: what a received alert changes, whatever order the notifications came in.

Alertmanager identifies an alert instance by its fingerprint and `startsAt`; it retries failed
deliveries, re-sends whole groups at every `group_interval`, and an HA pair sends everything
twice, so the same instance arrives many times and a retry may arrive after a later
notification. The rules here make the stored state depend only on the set of notifications
received, not on their order or their repetitions:

- an instance's status only moves forward: firing → resolved, never back;
- an incident's times come from the alerts' own instants (`startsAt`, `endsAt`), never from
  when a notification happened to arrive;
- a late alert of a group joins the group's latest incident when it started before that
  incident was resolved; when the alerts had resolved that incident on their own and the late
  alert still fires, the resolution was premature and is withdrawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from srekit.core.incident import Incident, IncidentState

__all__ = [
    "AlertChange",
    "AlertStatus",
    "ReceivedAlert",
    "alert_change",
    "incident_title",
    "joins_incident",
    "state_before_resolution",
]


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertChange(StrEnum):
    """What one received alert does to the stored instance."""

    NEW = "new"  # first seen (firing or already resolved)
    RESOLVED = "resolved"  # was firing, now resolved
    UNCHANGED = "unchanged"  # a repeat, or a late firing after the resolution


@dataclass(frozen=True)
class ReceivedAlert:
    """One alert of a webhook notification; `ends_at` is None while firing (Alertmanager sends
    its zero time, 0001-01-01, then)."""

    fingerprint: str
    status: AlertStatus
    starts_at: datetime
    ends_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    generator_url: str | None = None

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")


def alert_change(stored: AlertStatus | None, received: AlertStatus) -> AlertChange:
    """What receiving an alert with `received` status does to an instance stored with `stored`
    (None: never seen)."""
    if stored is None:
        return AlertChange.NEW
    if stored is AlertStatus.FIRING and received is AlertStatus.RESOLVED:
        return AlertChange.RESOLVED
    return AlertChange.UNCHANGED


def incident_title(alert: ReceivedAlert, *, service: str | None) -> str:
    """The alert's `summary` annotation, else `<alertname> on <service>`, at most 400
    characters."""
    summary = alert.annotations.get("summary", "").strip()
    if summary:
        return summary[:400]
    name = alert.alertname or "alert"
    return (f"{name} on {service}" if service else name)[:400]


def joins_incident(incident: Incident, alert_starts_at: datetime) -> bool:
    """Whether a new alert of the incident's group belongs to it: the incident is open, or
    the alert started before the incident was resolved (a notification that came late)."""
    if incident.open:
        return True
    return incident.resolved_at is not None and alert_starts_at <= incident.resolved_at


def state_before_resolution(incident: Incident) -> IncidentState:
    """The open state a resolved incident was in before it resolved, read from its instants:
    mitigated, else acknowledged, else triggered."""
    if incident.mitigated_at is not None:
        return IncidentState.MITIGATED
    if incident.acknowledged_at is not None:
        return IncidentState.ACKNOWLEDGED
    return IncidentState.TRIGGERED
