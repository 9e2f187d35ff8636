"""Escalation policies and incidents' escalations as the API shows them; the request body is
the srekit/v1 document itself (`spec.escalation.EscalationPolicyDocument`, shared with spec
files and the store)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from srekit.contracts import EscalationOut, ResponseModel, Time
from srekit.spec.escalation import EscalationPolicyDocument

__all__ = ["EscalationOut", "EscalationPolicyDocument", "EscalationPolicyOut"]


class EscalationPolicyOut(ResponseModel):
    name: str
    version: int
    created_at: Time
    updated_at: Time
    document: dict[str, Any] = Field(
        description="the srekit/v1 EscalationPolicy document: PUT takes it back as it is"
    )
