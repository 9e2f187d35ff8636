"""What the post-mortem routes take: the sections of an edit (`spec.postmortem.SectionsSpec`,
the model the CLI's edit file has too) and the figures a draft may start from. Strict:
unknown fields, NaN, control characters and oversized texts are refused. What they answer is
`contracts.PostmortemOut`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from srekit.api.schemas.base import RequestModel
from srekit.spec.postmortem import Consumed, Fraction, SectionsSpec, SloKey

__all__ = ["DraftIn", "SectionsIn"]

SectionsIn = SectionsSpec


class DraftIn(RequestModel):
    """What is known of the impact when the draft is made (all optional)."""

    budget_consumed: Annotated[dict[SloKey, Consumed | None], Field(max_length=200)] = Field(
        default_factory=dict,
        description="per SLO (service/slo): the fraction of its error budget the incident consumed",
    )
    affected_share: Fraction | None = Field(
        None, description="the share of users (requests) the incident failed, in [0, 1]"
    )
