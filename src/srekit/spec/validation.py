"""The one way from a parse failure to a SpecError that names the file, the field and what was
expected: PyYAML's `YAMLError` (every spec file is read through `read_documents`) and pydantic's
`ValidationError` (srekit/v1 and OpenSLO documents are validated through `validate_model`).

Sloth's formats are decoded by hand, as Sloth's yaml.v2 decoding is lenient in ways pydantic is
not, and raise their SpecErrors through `Document.error` directly.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from srekit.errors import SpecError

if TYPE_CHECKING:
    from srekit.spec.document import Document

__all__ = [
    "YAML_DEPTH",
    "SafeYamlLoader",
    "dotted_field",
    "shown_value",
    "validate_model",
    "validation_error",
    "yaml_error",
]

Model = TypeVar("Model", bound=BaseModel)

_UNION_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})
_SHOWN_OTHERS = 3
# The patterns srekit's spec models check, in words: a regular expression is never shown.
_PATTERN_WORDS = {
    r"^[a-zA-Z_][a-zA-Z0-9_]*$": "letters, digits and '_', not starting with a digit",
    r"^[a-zA-Z_:][a-zA-Z0-9_:]*$": (
        "a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit"
    ),
}
_EXPECTED_GOT = re.compile(r"expected (?P<expected>.+), got (?P<found>[^,]+)", re.DOTALL)


def dotted_field(location: Sequence[int | str], prefix: str = "") -> str:
    """`("spec", "objectives", 0, "target")` → `spec.objectives[0].target`."""
    text = prefix
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


YAML_DEPTH = 64
"""The deepest nesting any srekit document has need of (specs nest about 8 levels)."""


class _DepthBoundComposer(yaml.composer.Composer):
    """PyYAML's composer that refuses nesting deeper than YAML_DEPTH.

    libyaml's own composer recurses in C: a file of 100,000 `[` overflows the C stack and kills
    the process, where this one stops at the first level too deep with an error at its mark.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > YAML_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise yaml.composer.ComposerError(
                    None, None, f"expected nesting at most {YAML_DEPTH} levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _PurePythonParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's own reader, scanner and parser, for a PyYAML built without libyaml."""

    def __init__(self, stream: Any) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


# libyaml's parser (an iterative state machine, 8x faster) when PyYAML was built with it
_Parser: Any = _PurePythonParser
if yaml.__with_libyaml__:
    _Parser = yaml.cyaml.CParser  # type: ignore[attr-defined]


class SafeYamlLoader(
    _DepthBoundComposer,
    _Parser,  # type: ignore[misc]
    yaml.constructor.SafeConstructor,
    yaml.resolver.Resolver,
):
    """yaml.safe_load's loader with libyaml's parser (when PyYAML has it) and a nesting bound."""

    def __init__(self, stream: Any) -> None:
        _Parser.__init__(self, stream)
        _DepthBoundComposer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


def yaml_error(error: yaml.YAMLError, *, file: str) -> SpecError:
    """A file that is not YAML: the line and column where the parser gave up, and why."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        message = f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    else:
        message = f"invalid YAML: {problem}"
    return SpecError(message, file=file)


def validate_model(model: type[Model], data: Any, document: Document, *, prefix: str = "") -> Model:
    """Validate `data` against `model`; a problem raises a SpecError (see `validation_error`)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_error(
            error, model=model, data=data, document=document, prefix=prefix
        ) from None
    except (ValueError, TypeError) as error:
        raise SpecError(str(error), file=document.where, field=prefix or None) from None


def validation_error(
    error: ValidationError,
    *,
    model: type[BaseModel],
    data: Any,
    document: Document,
    prefix: str = "",
) -> SpecError:
    """The first problem as a SpecError, and the next three after `(also ...)`.

    An unknown field comes first: it is usually a misspelt or misplaced one, which explains the
    rest (a 'missing' field, say). The members of a union that the input was never meant for
    fail on type; those are left out while another problem remains.
    """
    problems = [(_location(p["loc"], data), p) for p in error.errors()]
    meant = [(place, p) for place, p in problems if not (place[1] and p["type"].endswith("_type"))]
    ranked = sorted(meant or problems, key=lambda item: item[1]["type"] != "extra_forbidden")

    said = _said_once(
        [(place, _expectation(model, problem, place)) for (place, _), problem in ranked]
    )
    (first_place, message), others = said[0], said[1:]
    also = [
        f"{dotted_field(place, prefix)}: {expectation}"
        for place, expectation in others[:_SHOWN_OTHERS]
    ]
    if len(others) > _SHOWN_OTHERS:
        also.append(f"{len(others) - _SHOWN_OTHERS} more")
    if also:
        message += " (also " + "; ".join(also) + ")"
    return document.error(dotted_field(first_place, prefix) or None, message)


def _said_once(
    problems: list[tuple[list[int | str], str]],
) -> list[tuple[list[int | str], str]]:
    """One message per field: the members of a union the value fit none of (`window: 1.5`
    is neither a duration nor a mapping) become one "expected A or B, got 1.5", rather than
    two messages that each say what was found."""
    merged: dict[tuple[int | str, ...], list[str]] = {}
    for place, message in problems:
        merged.setdefault(tuple(place), []).append(message)
    said: list[tuple[list[int | str], str]] = []
    for key, messages in merged.items():
        place = list(key)
        matches = [_EXPECTED_GOT.fullmatch(message) for message in messages]
        found = {match["found"] for match in matches if match}
        if len(messages) > 1 and all(matches) and len(found) == 1:
            expected = " or ".join(dict.fromkeys(match["expected"] for match in matches if match))
            said.append((place, f"expected {expected}, got {found.pop()}"))
        else:
            said.extend((place, message) for message in dict.fromkeys(messages))
    return said


def _is_union_tag(part: int | str) -> bool:
    """pydantic names the union member it tried (`str`, `_Calendar`) in error locations."""
    if isinstance(part, int):
        return False
    return part in _UNION_TAGS or part.startswith(("_", "function-")) or "[" in part


def _location(location: Sequence[int | str], data: Any) -> tuple[list[int | str], bool]:
    """The path into the input that `location` names, and whether it went through a union.

    pydantic's location mixes the input's keys with its own labels (`[key]` for a mapping key,
    the member tried in a union); a label is recognised by not being a key of the input there.
    """
    parts: list[int | str] = []
    node: Any = data
    in_union = False
    for part in location:
        found, child = _step(node, part)
        if found:
            node = child
        elif part == "[key]":
            continue
        elif _is_union_tag(part):
            in_union = True
            continue
        else:
            node = None
        parts.append(part)
    return parts, in_union


def _step(node: Any, part: int | str) -> tuple[bool, Any]:
    """Whether `part` is a key (or an index) of the input `node`, and what it holds there."""
    if isinstance(node, Mapping) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `X | None`, `list[X]`, `Annotated[X, ...]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list, Annotated):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


def _fields_at(model: type[BaseModel], location: Sequence[int | str]) -> list[str]:
    """The field names (aliases) allowed at `location` below `model`, for 'unknown field'."""
    current: type[BaseModel] | None = model
    for part in location:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        if part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    if current is None:
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def shown_value(value: Any) -> str:
    """A value as a message shows what was found: a mapping or a list by its kind (never a
    long repr), anything else by its repr, cut at 80 characters."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expectation(model: type[BaseModel], error: ErrorDetails, location: Sequence[int | str]) -> str:
    """What was expected at `location` (the input's path), and what was found instead."""
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, location[:-1])
        known = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"unknown field{known}"
    if kind == "missing":
        return "required field is missing"
    context = error.get("ctx") or {}
    if kind == "too_short":
        return f"expected at least {context.get('min_length')} item(s), got {len(error['input'])}"
    if kind == "too_long":
        return f"expected at most {context.get('max_length')} item(s), got {len(error['input'])}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (an object), got {shown_value(error['input'])}"
    if kind == "list_type":
        return f"expected a list, got {shown_value(error['input'])}"
    if kind == "string_pattern_mismatch":
        pattern = str(context.get("pattern", ""))
        words = _PATTERN_WORDS.get(pattern, "text of the form the field's documentation gives")
        return f"expected {words}, got {shown_value(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    if kind == "value_error" or "got " in message:
        return message
    return f"{message}, got {shown_value(error['input'])}"
