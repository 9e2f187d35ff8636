"""The small JSONPath that Chaos Toolkit's `jsonpath` tolerances use, in the standard library.

Chaos Toolkit evaluates these tolerances with the `jsonpath2` package. The experiments people
write use a handful of forms, and srekit reads exactly those, refusing anything else when the
experiment is loaded rather than guessing:

    $                      the document
    .name  ['name']        a member of an object (names: letters, digits, '_' and '-')
    [3]  [-1]              an item of an array (negative counts from the end)
    .*  [*]                every member or item
    ..name  ..*            recursive descent: `name` (or everything) at any depth below
    [?(@.a.b == 'x')]      the items (or members) whose sub-path compares with a literal
                           (==, = as jsonpath2 spells equality, !=, <, <=, >, >=); `[?(@.a)]`
                           keeps those where the sub-path exists

Literals are numbers, quoted strings, true, false and null. Matches come back in document
order, as jsonpath2 returns them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonPath", "compile_json_path"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"-?\d+")
_QUOTED = re.compile(r"'([^'\\]*)'|\"([^\"\\]*)\"")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_OPERATORS = ("==", "!=", "<=", ">=", "=", "<", ">")
_MISSING = object()


@dataclass(frozen=True)
class _Member:
    name: str


@dataclass(frozen=True)
class _Item:
    index: int


@dataclass(frozen=True)
class _Every:
    pass


@dataclass(frozen=True)
class _Descend:
    """Recursive descent to `name` (None: every value below)."""

    name: str | None


@dataclass(frozen=True)
class _Filter:
    path: tuple[str | int, ...]
    operator: str | None
    literal: Any


_Segment = _Member | _Item | _Every | _Descend | _Filter


@dataclass(frozen=True)
class JsonPath:
    """A compiled path: `find(document)` gives every value it matches."""

    text: str
    segments: tuple[_Segment, ...]

    def find(self, document: Any) -> list[Any]:
        """The values the path matches in `document` (parsed JSON), in document order."""
        current = [document]
        for segment in self.segments:
            current = [found for value in current for found in _apply(segment, value)]
        return current


def compile_json_path(text: str) -> JsonPath:
    """Parse `text`; ValueError names the position and what was expected there."""
    cleaned = text.strip()
    if not cleaned.startswith("$"):
        raise ValueError(f"expected a JSONPath starting with '$', got {text!r}")
    segments: list[_Segment] = []
    position = 1
    while position < len(cleaned):
        segment, position = _segment(cleaned, position)
        segments.append(segment)
    return JsonPath(cleaned, tuple(segments))


def _problem(text: str, position: int, expected: str) -> ValueError:
    return ValueError(f"expected {expected} at character {position + 1} of JSONPath {text!r}")


def _segment(text: str, position: int) -> tuple[_Segment, int]:
    if text.startswith("..", position):
        position += 2
        if text.startswith("*", position):
            return _Descend(None), position + 1
        name = _NAME.match(text, position)
        if name is None:
            raise _problem(text, position, "a member name or '*' after '..'")
        return _Descend(name.group()), name.end()
    if text.startswith(".", position):
        position += 1
        if text.startswith("*", position):
            return _Every(), position + 1
        name = _NAME.match(text, position)
        if name is None:
            raise _problem(text, position, "a member name or '*' after '.'")
        return _Member(name.group()), name.end()
    if text.startswith("[", position):
        return _bracket(text, position + 1)
    raise _problem(text, position, "'.', '..' or '['")


def _closing(text: str, position: int) -> int:
    if not text.startswith("]", position):
        raise _problem(text, position, "']'")
    return position + 1


def _bracket(text: str, position: int) -> tuple[_Segment, int]:
    if text.startswith("*", position):
        return _Every(), _closing(text, position + 1)
    if text.startswith("?(", position):
        return _filter(text, position + 2)
    quoted = _QUOTED.match(text, position)
    if quoted is not None:
        return _Member(_unquoted(quoted)), _closing(text, quoted.end())
    index = _INDEX.match(text, position)
    if index is not None:
        return _Item(int(index.group())), _closing(text, index.end())
    raise _problem(text, position, "an index, a quoted name, '*' or '?(' after '['")


def _unquoted(match: re.Match[str]) -> str:
    single, double = match.group(1), match.group(2)
    return single if single is not None else double


def _filter(text: str, position: int) -> tuple[_Segment, int]:
    if not text.startswith("@", position):
        raise _problem(text, position, "'@' to start a filter")
    position += 1
    path: list[str | int] = []
    while True:
        if text.startswith(".", position):
            name = _NAME.match(text, position + 1)
            if name is None:
                raise _problem(text, position + 1, "a member name after '.'")
            path.append(name.group())
            position = name.end()
        elif text.startswith("[", position):
            quoted = _QUOTED.match(text, position + 1)
            index = _INDEX.match(text, position + 1)
            if quoted is not None:
                path.append(_unquoted(quoted))
                position = _closing(text, quoted.end())
            elif index is not None:
                path.append(int(index.group()))
                position = _closing(text, index.end())
            else:
                raise _problem(text, position + 1, "an index or a quoted name")
        else:
            break
    position = _skip_spaces(text, position)
    operator = next((op for op in _OPERATORS if text.startswith(op, position)), None)
    literal: Any = None
    if operator is not None:
        literal, position = _literal(text, _skip_spaces(text, position + len(operator)))
        position = _skip_spaces(text, position)
    if not text.startswith(")]", position):
        raise _problem(text, position, "an operator or ')]' to end the filter")
    return _Filter(tuple(path), operator, literal), position + 2


def _skip_spaces(text: str, position: int) -> int:
    while text.startswith(" ", position):
        position += 1
    return position


def _literal(text: str, position: int) -> tuple[Any, int]:
    quoted = _QUOTED.match(text, position)
    if quoted is not None:
        return _unquoted(quoted), quoted.end()
    for word, value in (("true", True), ("false", False), ("null", None)):
        if text.startswith(word, position):
            return value, position + len(word)
    number = _NUMBER.match(text, position)
    if number is not None:
        parsed = float(number.group())
        if not math.isfinite(parsed):
            raise _problem(text, position, "a finite number")
        return (int(parsed) if parsed.is_integer() and "." not in number.group() else parsed), (
            number.end()
        )
    raise _problem(text, position, "a number, a quoted string, true, false or null")


def _children(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    return []


def _descendants(value: Any) -> list[Any]:
    """`value`'s children and theirs, depth first, in document order."""
    found: list[Any] = []
    pending = list(reversed(_children(value)))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(reversed(_children(child)))
    return found


def _apply(segment: _Segment, value: Any) -> list[Any]:
    if isinstance(segment, _Member):
        if isinstance(value, Mapping) and segment.name in value:
            return [value[segment.name]]
        return []
    if isinstance(segment, _Item):
        if isinstance(value, list | tuple) and -len(value) <= segment.index < len(value):
            return [value[segment.index]]
        return []
    if isinstance(segment, _Every):
        return _children(value)
    if isinstance(segment, _Descend):
        everything = [value, *_descendants(value)]
        if segment.name is None:
            return everything[1:]
        return [
            node[segment.name]
            for node in everything
            if isinstance(node, Mapping) and segment.name in node
        ]
    return [child for child in _children(value) if _kept(segment, child)]


def _kept(segment: _Filter, value: Any) -> bool:
    found = value
    for part in segment.path:
        found = _apply(_Member(part) if isinstance(part, str) else _Item(part), found)
        found = found[0] if found else _MISSING
        if found is _MISSING:
            return False
    if segment.operator is None:
        return True
    return _compare(found, segment.operator, segment.literal)


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator in ("==", "=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            equal = left is right
        else:
            equal = bool(left == right)
        return equal if operator != "!=" else not equal
    numbers = all(
        isinstance(side, int | float) and not isinstance(side, bool) for side in (left, right)
    )
    strings = isinstance(left, str) and isinstance(right, str)
    if not (numbers or strings):
        return False
    if operator == "<":
        return bool(left < right)
    if operator == "<=":
        return bool(left <= right)
    if operator == ">":
        return bool(left > right)
    return bool(left >= right)
