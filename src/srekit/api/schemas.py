"""Request and response bodies of the JSON API (pydantic), as the OpenAPI document shows them.

Request bodies refuse unknown fields (a typo is a 422, not a silently ignored setting), except
Flagger's webhook payload, which is Flagger's to extend. Responses follow DESIGN.md's contracts:
snake_case, ratios as fractions, durations in seconds, times as RFC 3339 strings in UTC.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from srekit.core.access import Role
from srekit.spec.model import SloSpec

__all__ = [
    "AppliedOut",
    "ApplyOut",
    "AuditOut",
    "DeploymentOut",
    "ErrorOut",
    "FlaggerPayload",
    "HealthOut",
    "PolicyOut",
    "ServiceOut",
    "ServiceWrite",
    "SloOut",
    "SloSummaryOut",
    "SloVersionOut",
    "SloWrite",
    "SpecDocumentsIn",
    "TeamOut",
    "TokenCreate",
    "TokenCreatedOut",
    "TokenOut",
]

Time = Annotated[str, Field(description="RFC 3339, UTC", examples=["2026-11-01T00:00:00Z"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Out(BaseModel):
    """Responses: clients must ignore fields they do not know, so later ones can be added."""


class ErrorOut(_Out):
    """401, 403, 404, 409 and 503 answers (422 uses FastAPI's `HTTPValidationError`)."""

    detail: str


class HealthOut(_Out):
    status: Literal["ok", "ready", "unavailable"]
    detail: str | None = None
    revision: str | None = None


# --- SLO specs (the spec itself is `spec.model.SloSpec`, shared with the store) ----------


class SloWrite(_In):
    """`PUT /api/v1/slos/{service}/{name}`: exactly one of `spec` (srekit's JSON schema) or
    `document` (one spec document in any supported format: srekit/v1, OpenSLO v1, Sloth),
    which must define this SLO and nothing else."""

    spec: SloSpec | None = None
    document: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SloWrite:
        if (self.spec is None) == (self.document is None):
            raise ValueError("give exactly one of spec and document")
        return self


class SpecDocumentsIn(_In):
    """`POST /api/v1/slos`: spec documents as `srekit slo apply` reads them from files."""

    documents: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class AppliedOut(_Out):
    name: str = Field(description="service/name of an SLO, or a policy's name")
    result: Literal["created", "updated", "unchanged"]
    version: int
    changes: list[str]


class ApplyOut(_Out):
    actor: str
    slos: list[AppliedOut]
    policies: list[AppliedOut]


class SloSummaryOut(_Out):
    service: str
    slo: str
    team: str | None
    objective: float
    window: str
    version: int
    source_format: str | None
    updated_at: Time


class SloVersionOut(_Out):
    version: int
    applied_at: Time
    applied_by: str
    source_format: str | None
    source_file: str | None
    changes: list[str]
    spec: dict[str, Any]


class SloOut(_Out):
    service: str
    slo: str
    team: str | None
    version: int
    source_format: str | None
    source_file: str | None
    created_at: Time
    updated_at: Time
    spec: dict[str, Any]
    versions: list[SloVersionOut]


# --- services, teams ------------------------------------------------------------------------


class ServiceWrite(_In):
    """`PUT /api/v1/services/{name}`: create the service, or move it to `team`."""

    team: Name | None = Field(None, description="the owning team (created when missing)")


class ServiceOut(_Out):
    name: str
    team: str | None
    slos: list[str]
    created_at: Time
    updated_at: Time


class TeamOut(_Out):
    name: str
    services: list[str]
    created_at: Time


# --- policies -----------------------------------------------------------------------------


class PolicyOut(_Out):
    name: str
    version: int
    created_at: Time
    updated_at: Time
    spec: dict[str, Any]


# --- status, history, gate ----------------------------------------------------------------


class FlaggerPayload(BaseModel):
    """Flagger's webhook payload; `metadata` carries srekit's parameters (`service`,
    `change_type`, `version`, `commit_time`, `fail_open`), all strings as Flagger sends them."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(max_length=253)
    namespace: str = Field("", max_length=253)
    phase: str = Field("", max_length=100)
    metadata: dict[str, str] = {}


class DeploymentOut(_Out):
    id: int
    service: str
    version: str | None
    commit_time: Time | None
    change_type: str
    allowed: bool
    decision: str
    state: str
    reasons: list[str]
    requested_at: Time
    requested_by: str | None
    source: str


# --- audit, tokens ------------------------------------------------------------------------


class AuditOut(_Out):
    id: int
    at: Time
    actor: str
    action: str
    entity_kind: str
    entity_id: str
    before: Any
    after: Any


class TokenCreate(_In):
    role: Role
    name: Name | None = Field(None, description="default: `<role>-<first characters>`")


class TokenOut(_Out):
    name: str
    role: Role
    prefix: str = Field(description="the token's first characters, to tell tokens apart")
    created_at: Time
    created_by: str
    last_used_at: Time | None
    revoked_at: Time | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never stored")
