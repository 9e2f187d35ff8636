"""The Protocols that adapters implement and flows call, for what lives outside `core`.

`SliSource` (SLI data) lives with the readings in `core.sli`; the others are here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from srekit.core.notify import ContactMethod, Delivery, Page
from srekit.core.silences import ReportedAlert
from srekit.core.sli import SliSource

__all__ = ["IncidentRepository", "NoIncidents", "Notifier", "Silencer", "SliSource"]


class IncidentRepository(Protocol):
    """What the deploy gate asks of incidents: the open P0/P1 ones on a service."""

    def open_severe_incidents(self, service: str) -> Sequence[str]:
        """Ids or titles of the service's open P0/P1 incidents, as the gate's reason shows
        them; empty when none is open."""


class NoIncidents:
    """The repository while no incident store is configured: none is ever open."""

    def open_severe_incidents(self, service: str) -> Sequence[str]:
        return ()


class Silencer(Protocol):
    """What srekit asks of Alertmanager for incidents' silences (`alertmanager.AlertmanagerClient`).

    Every method raises NotifierUnavailable when Alertmanager cannot answer; `expire_silence`
    raises NotFound for a silence Alertmanager does not know.
    """

    url: str

    def create_silence(
        self,
        labels: Mapping[str, str],
        *,
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
    ) -> str:
        """Silence the alerts carrying all of `labels`; the new silence's id."""

    def expire_silence(self, silence_id: str) -> None:
        """End the silence now (an expired one stays expired)."""

    def list_alerts(self, labels: Mapping[str, str] | None = None) -> list[ReportedAlert]:
        """The alerts Alertmanager holds and has not seen end, those carrying `labels` only."""

    def started_at(self) -> datetime:
        """When this Alertmanager started (its uptime's origin)."""


class Notifier(Protocol):
    """Pages people (`srekit.notifiers.Notifiers`): sends a page to one contact method, with
    retries, and says what happened. Never raises for a delivery that failed: the Delivery
    says so."""

    def send(self, page: Page, contact: ContactMethod) -> Delivery:
        """Deliver `page` to `contact`; the outcome, delivered or not."""
