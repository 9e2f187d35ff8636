"""What several routers share: error answers for the OpenAPI document, time formatting, and
the JSON response the chart documents use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi.responses import JSONResponse

from srekit.api.schemas.base import ErrorOut
from srekit.core.instant import format_instant

__all__ = [
    "AUTH_ERRORS",
    "BODY_ERRORS",
    "READ_ERRORS",
    "WRITE_ERRORS",
    "ChartJSONResponse",
    "time_or_none",
]


class ChartJSONResponse(JSONResponse):
    """JSON encoded by orjson: a chart document holds tens of thousands of floats, which the
    standard library's encoder spends a quarter of the chart endpoint's time writing. The
    same JSON text for the values these documents hold (strings, finite floats, ints, lists,
    dicts); a non-finite float would be null rather than an error."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


_503 = {"model": ErrorOut, "description": "the state store is unavailable (Retry-After)"}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no token, or an unknown or revoked one"},
    429: {"model": ErrorOut, "description": "too many failed authentications: Retry-After"},
    403: {"model": ErrorOut, "description": "the token's role does not allow this"},
    503: _503,
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: {"model": ErrorOut, "description": "no such thing"},
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "the body is larger than SREKIT_MAX_BODY_BYTES"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    **BODY_ERRORS,
    409: {"model": ErrorOut, "description": "the change conflicts with stored state"},
}


def time_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else format_instant(moment)
