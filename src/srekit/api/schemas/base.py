"""What every request and response body shares: strict requests, open responses, errors."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from srekit.contracts import ResponseModel

__all__ = ["ErrorOut", "Name", "RequestModel"]


class RequestModel(BaseModel):
    """Requests refuse unknown fields (a typo is a 422) and NaN or infinities."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Name = Annotated[str, Field(min_length=1, max_length=200)]


class ErrorOut(ResponseModel):
    """401, 403, 404, 409 and 503 answers (422 uses FastAPI's `HTTPValidationError`)."""

    detail: str
