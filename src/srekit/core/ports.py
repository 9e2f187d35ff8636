"""The Protocols that adapters implement and flows call, for what lives outside `core`.

`SliSource` (SLI data) lives with the readings in `core.sli`; the others are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from srekit.core.sli import SliSource

__all__ = ["IncidentRepository", "NoIncidents", "SliSource"]


class IncidentRepository(Protocol):
    """What the deploy gate asks of incidents: the open P0/P1 ones on a service."""

    def open_severe_incidents(self, service: str) -> Sequence[str]:
        """Ids or titles of the service's open P0/P1 incidents, as the gate's reason shows
        them; empty when none is open."""


class NoIncidents:
    """The repository while no incident store is configured: none is ever open."""

    def open_severe_incidents(self, service: str) -> Sequence[str]:
        return ()
