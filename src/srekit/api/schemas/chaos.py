"""What `/api/v1/chaos` answers besides the stored runs (`contracts.ChaosRunOut`)."""

from __future__ import annotations

from typing import Any

from srekit.contracts import ChaosRunOut, ResponseModel

__all__ = ["ChaosRunShownOut", "ExperimentCheckOut"]


class ChaosRunShownOut(ChaosRunOut):
    journal: dict[str, Any]


class ExperimentCheckOut(ResponseModel):
    """A valid experiment, in figures: what `srekit chaos validate` says of it."""

    title: str
    probes: int
    method: int
    rollbacks: int
    hypothesis_strategy: str
    rollback_strategy: str
    service: str | None
    blast_radius: list[str]
    ttl_s: int | None
