"""What the Alertmanager route answers; the payload it reads is `srekit.alertmanager.webhook`'s."""

from __future__ import annotations

from srekit.alertmanager.webhook import WebhookIn
from srekit.contracts import ResponseModel

__all__ = ["ALERTMANAGER_PATH", "IntakeOut", "WebhookIn"]

ALERTMANAGER_PATH = "/api/v1/alertmanager"


class IntakeOut(ResponseModel):
    """What one notification changed (all zero for a body received before)."""

    duplicate: bool
    new_alerts: int
    resolved_alerts: int
    unrouted_alerts: int
    incidents_opened: list[int]
    incidents_resolved: list[int]
