"""What every request and response body shares: strict requests, open responses, errors, and
the names a request gives (in its body or its URL path)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict

from srekit.contracts import ResponseModel
from srekit.core.names import NAME_MAX_LENGTH, NAME_RULE
from srekit.spec.model import Name, NameRule

__all__ = ["ErrorOut", "Name", "NewName", "RequestModel", "StoredName"]


class RequestModel(BaseModel):
    """Requests refuse unknown fields (a typo is a 422) and NaN or infinities."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


NewName = Annotated[str, Path(description=f"{NAME_RULE}"), NameRule()]
"""A name in the path of a write: refused (422 naming the parameter) unless it follows the rule."""
StoredName = Annotated[str, Path(min_length=1, max_length=NAME_MAX_LENGTH)]
"""A name in the path of a read or a delete: looked up as it is, so a name stored before the
rule existed can still be read and removed (one the rule refuses is simply not found)."""


class ErrorOut(ResponseModel):
    """401, 403, 404, 409 and 503 answers (422 uses FastAPI's `HTTPValidationError`)."""

    detail: str
