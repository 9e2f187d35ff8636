"""Writing SLOs (the spec itself is `spec.model.SloSpec`, shared with the store and srekit/v1),
and what applying and reading them answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from srekit.api.schemas.base import RequestModel
from srekit.contracts import ResponseModel, Time
from srekit.spec.model import SloSpec

__all__ = [
    "AppliedOut",
    "ApplyOut",
    "SloOut",
    "SloSummaryOut",
    "SloVersionOut",
    "SloWrite",
    "SpecDocumentsIn",
]


class SloWrite(RequestModel):
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


class SpecDocumentsIn(RequestModel):
    """`POST /api/v1/slos`: spec documents as `srekit slo apply` reads them from files."""

    documents: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class AppliedOut(ResponseModel):
    name: str = Field(description="service/name of an SLO, or a policy's name")
    result: Literal["created", "updated", "unchanged"]
    version: int
    changes: list[str]


class ApplyOut(ResponseModel):
    actor: str
    slos: list[AppliedOut]
    policies: list[AppliedOut]


class SloSummaryOut(ResponseModel):
    service: str
    slo: str
    team: str | None
    objective: float
    window: str
    version: int
    source_format: str | None
    updated_at: Time


class SloVersionOut(ResponseModel):
    version: int
    applied_at: Time
    applied_by: str
    source_format: str | None
    source_file: str | None
    changes: list[str]
    spec: dict[str, Any]


class SloOut(ResponseModel):
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
