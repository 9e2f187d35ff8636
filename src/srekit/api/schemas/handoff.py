"""What `GET /api/v1/oncall/rotations/{name}/handoff` answers: `core.handoff.handoff_document`,
described for the OpenAPI document (and held to it by the tests)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from srekit.contracts import ResponseModel

__all__ = ["HandoffOut"]


class TurnOut(ResponseModel):
    member: str | None
    start: str
    end: str
    override: bool
    gap: str | None


class LayerHandoffOut(ResponseModel):
    layer: str
    at: str
    outgoing: TurnOut | None
    incoming: TurnOut


class HandoffIncidentOut(ResponseModel):
    id: int
    title: str
    severity: str
    state: str
    opened_at: str
    age_s: float
    commander: str | None
    services: list[str]


class PendingPostmortemOut(ResponseModel):
    id: int
    title: str
    severity: str
    resolved_at: str | None
    postmortem: str | None


class HandoffDeploymentOut(ResponseModel):
    service: str
    version: str | None
    change_type: str
    allowed: bool
    requested_at: str


class HandoffSloOut(ResponseModel):
    service: str
    slo: str
    objective: float
    sli: float | None
    error_budget_remaining: float | None
    burn_rate_1h: float | None
    policy_state: str
    data: str


class FiredRuleOut(ResponseModel):
    alertname: str
    fired: int
    firing: int
    services: list[str]
    incidents: list[int]
    actionable_rate: float | None
    missed_targets: list[str]


class HandoffAlertsOut(ResponseModel):
    """The outgoing shift reviewed, [from, to), and its alerts by rule."""

    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    rules: list[FiredRuleOut]


class HandoffTaskOut(ResponseModel):
    id: int
    incident_id: int
    title: str
    owner: str | None
    due_at: str | None
    overdue: bool


class MatcherOut(ResponseModel):
    name: str
    value: str
    is_regex: bool
    is_equal: bool


class MaintenanceSilenceOut(ResponseModel):
    id: str
    state: Literal["active", "pending"]
    starts_at: str
    ends_at: str
    created_by: str
    comment: str
    services: list[str]
    matchers: list[MatcherOut]


class MaintenanceOut(ResponseModel):
    configured: bool
    problem: str | None
    silences: list[MaintenanceSilenceOut]


class HandoffOut(ResponseModel):
    rotation: str
    team: str | None
    at: str
    timezone: str
    services: list[str]
    layers: list[LayerHandoffOut]
    incidents: list[HandoffIncidentOut]
    awaiting_postmortem: list[PendingPostmortemOut]
    deployments: list[HandoffDeploymentOut]
    slos: list[HandoffSloOut]
    alerts: HandoffAlertsOut
    tasks: list[HandoffTaskOut]
    maintenance: MaintenanceOut
    confirmations: list[str]
