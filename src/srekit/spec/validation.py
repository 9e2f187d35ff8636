"""Turn pydantic's validation errors into SpecErrors that name the file, field and expectation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from srekit.errors import SpecError
from srekit.spec.document import Document

__all__ = ["dotted_field", "validate_model"]

Model = TypeVar("Model", bound=BaseModel)


def dotted_field(location: Sequence[int | str], prefix: str = "") -> str:
    """`("spec", "objectives", 0, "target")` → `spec.objectives[0].target`."""
    text = prefix
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_UNION_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def _is_union_tag(part: int | str) -> bool:
    """pydantic names the union member it tried (`str`, `_Calendar`) in error locations."""
    if isinstance(part, int):
        return False
    return part in _UNION_TAGS or part.startswith(("_", "function-")) or "[" in part


def _expectation(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check its spelling and the format's reference)"
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    value = error.get("input")
    if kind not in ("missing",) and not isinstance(value, dict | list):
        return f"{message} (got {value!r})"
    return message


def validate_model(model: type[Model], data: Any, document: Document, *, prefix: str = "") -> Model:
    """Validate `data` against `model`, raising a SpecError for the first problem found."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = error.errors()
        # In a union, the members the input was never meant for fail on type: skip those.
        first = next((p for p in problems if not p["type"].endswith("_type")), problems[0])
        location = [p for p in first["loc"] if not _is_union_tag(p)]
        raise document.error(dotted_field(location, prefix), _expectation(first)) from None
    except (ValueError, TypeError) as error:
        raise SpecError(str(error), file=document.where, field=prefix or None) from None
