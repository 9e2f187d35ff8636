"""go-yaml v2's emitter, the parts Sloth's output uses: the exact bytes `yaml.Marshal` writes.

Sorted map keys in go-yaml's order (letters after other characters, digit runs compared as
numbers), literal blocks for multi-line strings, quoting where a plain scalar would read back as
something else, and 80-column folding of long plain and quoted scalars. A document is a tree of
`Map`, `Seq` and strings; `emit_document` writes it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["Map", "Node", "Seq", "emit_document", "sorted_map", "sorted_node"]


@dataclass(frozen=True)
class Seq:
    """A block sequence of mappings (Sloth writes no other kind)."""

    items: tuple[Map, ...]


@dataclass(frozen=True)
class Map:
    """A block mapping whose keys are written in the order given."""

    items: tuple[tuple[str, Node], ...]


Node = Map | Seq | str


_BEST_WIDTH = 80
_BREAKS = "\n\r\x85\u2028\u2029"
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_YAML_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_YAML_DOT_FLOAT = re.compile(r"^\.[0-9]+([eE][-+]?[0-9]+)?$")
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]| )[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?$"
)
_RESERVED = {
    *("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"),
    *("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"),
    *("", "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"),
    *("+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"),
}


def _resolves_to_string(text: str) -> bool:
    """Whether yaml.v2 would read `text` back as a string when written plain."""
    if text in _RESERVED:
        return False
    first = text[0]
    if first == ".":
        return not _YAML_DOT_FLOAT.match(text)
    if first in "+-0123456789":
        plain = text.replace("_", "")
        if _TIMESTAMP.match(text) or _YAML_INT.match(plain) or _YAML_FLOAT.match(plain):
            return False
        if _BASE60_FLOAT.match(text):
            return False
    return True


def _printable(char: str) -> bool:
    code = ord(char)
    return (
        code == 0x0A
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


@dataclass(frozen=True)
class _Analysis:
    multiline: bool
    block_plain: bool
    single_quoted: bool
    block: bool


def _analyze(text: str) -> _Analysis:
    """libyaml's yaml_emitter_analyze_scalar, for block context."""
    if not text:
        return _Analysis(multiline=False, block_plain=True, single_quoted=True, block=False)
    block_indicators = text.startswith(("---", "..."))
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = special = line_breaks = False
    previous_space = previous_break = False
    preceded_by_whitespace = True
    last = len(text) - 1
    for index, char in enumerate(text):
        following = text[index + 1] if index < last else ""
        followed_by_whitespace = following in ("", " ", "\t") or following in _BREAKS
        if index == 0:
            if char in "#,[]{}&*!|>'\"%@`":
                block_indicators = True
            if char in "?:" and followed_by_whitespace:
                block_indicators = True
            if char == "-" and followed_by_whitespace:
                block_indicators = True
        elif (char == ":" and followed_by_whitespace) or (char == "#" and preceded_by_whitespace):
            block_indicators = True
        if not _printable(char):
            special = True
        if char in _BREAKS:
            line_breaks = True
        if char == " ":
            leading_space = leading_space or index == 0
            trailing_space = trailing_space or index == last
            break_space = break_space or previous_break
            previous_space, previous_break = True, False
        elif char in _BREAKS:
            leading_break = leading_break or index == 0
            trailing_break = trailing_break or index == last
            space_break = space_break or previous_space
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_whitespace = char in (" ", "\t") or char in _BREAKS
    block_plain = single_quoted = block = True
    if leading_space or leading_break or trailing_space or trailing_break:
        block_plain = False
    if trailing_space:
        block = False
    if break_space:
        block_plain = single_quoted = False
    if space_break or special:
        block_plain = single_quoted = block = False
    if line_breaks or block_indicators:
        block_plain = False
    return _Analysis(
        multiline=line_breaks, block_plain=block_plain, single_quoted=single_quoted, block=block
    )


_DOUBLE_ESCAPES = {
    "\0": "0",
    "\a": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\v": "v",
    "\f": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}


class _Emitter:
    """The parts of go-yaml v2's emitter that Sloth's output uses, state for state."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.open_ended = False

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.parts.append("\n")
        self.column = 0

    def write_indent(self, indent: int) -> None:
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.put_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = True
        self.indention = True

    def write_indicator(
        self, indicator: str, *, need_whitespace: bool, is_whitespace: bool, is_indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(indicator)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention
        self.open_ended = False

    # scalars

    def scalar(self, text: str, *, indent: int, simple_key: bool) -> None:
        analysis = _analyze(text)
        style: Literal["plain", "single", "double", "literal"]
        if "\n" in text:
            style = "literal"
        elif _resolves_to_string(text):
            style = "plain"
        else:
            style = "double"
        if simple_key and analysis.multiline:
            style = "double"
        if style == "plain" and (not analysis.block_plain or (not text and simple_key)):
            style = "single"
        if style == "single" and not analysis.single_quoted:
            style = "double"
        if style == "literal" and (not analysis.block or simple_key):
            style = "double"
        allow_breaks = not simple_key
        if style == "plain":
            self._plain(text, indent=indent, allow_breaks=allow_breaks)
        elif style == "single":
            self._single(text, indent=indent, allow_breaks=allow_breaks)
        elif style == "double":
            self._double(text, indent=indent, allow_breaks=allow_breaks)
        else:
            self._literal(text, indent=indent)

    def _plain(self, text: str, *, indent: int, allow_breaks: bool) -> None:
        if text and not self.whitespace:
            self.put(" ")
        spaces = False
        for index, char in enumerate(text):
            if char == " ":
                following = text[index + 1] if index + 1 < len(text) else ""
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and following != " ":
                    self.write_indent(indent)
                else:
                    self.put(char)
                spaces = True
            else:
                self.put(char)
                self.indention = False
                spaces = False
        self.whitespace = False
        self.indention = False

    def _single(self, text: str, *, indent: int, allow_breaks: bool) -> None:
        self.write_indicator("'", need_whitespace=True, is_whitespace=False, is_indention=False)
        spaces = False
        last = len(text) - 1
        for index, char in enumerate(text):
            if char == " ":
                following = text[index + 1] if index < last else ""
                if (
                    allow_breaks
                    and not spaces
                    and self.column > _BEST_WIDTH
                    and 0 < index < last
                    and following != " "
                ):
                    self.write_indent(indent)
                else:
                    self.put(char)
                spaces = True
            else:
                self.put("''" if char == "'" else char)
                self.indention = False
                spaces = False
        self.write_indicator("'", need_whitespace=False, is_whitespace=False, is_indention=False)

    def _double(self, text: str, *, indent: int, allow_breaks: bool) -> None:
        self.write_indicator('"', need_whitespace=True, is_whitespace=False, is_indention=False)
        spaces = False
        last = len(text) - 1
        for index, char in enumerate(text):
            if not _printable(char) or char == "\ufeff" or char in _BREAKS or char in '"\\':
                code = ord(char)
                if char in _DOUBLE_ESCAPES:
                    self.put("\\" + _DOUBLE_ESCAPES[char])
                elif code <= 0xFF:
                    self.put(f"\\x{code:02X}")
                elif code <= 0xFFFF:
                    self.put(f"\\u{code:04X}")
                else:
                    self.put(f"\\U{code:08X}")
                spaces = False
            elif char == " ":
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and 0 < index < last:
                    self.write_indent(indent)
                    if text[index + 1] == " ":
                        self.put("\\")
                else:
                    self.put(char)
                spaces = True
            else:
                self.put(char)
                spaces = False
        self.write_indicator('"', need_whitespace=False, is_whitespace=False, is_indention=False)

    def _literal(self, text: str, *, indent: int) -> None:
        self.write_indicator("|", need_whitespace=True, is_whitespace=False, is_indention=False)
        if text[0] == " " or text[0] in _BREAKS:
            self.write_indicator(
                "2", need_whitespace=False, is_whitespace=False, is_indention=False
            )
        chomp = ""
        if text[-1] not in _BREAKS:
            chomp = "-"
        elif len(text) == 1 or text[-2] in _BREAKS:
            chomp = "+"
        if chomp:
            self.write_indicator(
                chomp, need_whitespace=False, is_whitespace=False, is_indention=False
            )
        self.open_ended = chomp == "+"
        self.put_break()
        self.indention = True
        self.whitespace = True
        breaks = True
        for char in text:
            if char in _BREAKS:
                self.put_break()
                self.indention = True
                breaks = True
            else:
                if breaks:
                    self.write_indent(indent)
                    breaks = False
                self.put(char)
                self.indention = False

    # collections

    def mapping(self, node: Map, *, indent: int) -> None:
        for key, value in node.items:
            self.write_indent(indent)
            self.scalar(key, indent=indent + 2, simple_key=True)
            self.write_indicator(
                ":", need_whitespace=False, is_whitespace=False, is_indention=False
            )
            self.node(value, indent=indent, in_mapping=True)

    def sequence(self, node: Seq, *, indent: int) -> None:
        for item in node.items:
            self.write_indent(indent)
            self.write_indicator("-", need_whitespace=True, is_whitespace=False, is_indention=True)
            self.mapping(item, indent=indent + 2)

    def node(self, value: Node, *, indent: int, in_mapping: bool) -> None:
        if isinstance(value, str):
            self.scalar(value, indent=indent + 2, simple_key=False)
        elif isinstance(value, Map):
            if not value.items:
                self.write_indicator(
                    "{}", need_whitespace=True, is_whitespace=False, is_indention=False
                )
            else:
                self.mapping(value, indent=indent + 2)
        elif not value.items:
            self.write_indicator(
                "[]", need_whitespace=True, is_whitespace=False, is_indention=False
            )
        else:
            # A block sequence that is a mapping value is not indented (go-yaml v2).
            self.sequence(value, indent=indent if in_mapping and not self.indention else indent + 2)

    def document(self, root: Map) -> str:
        self.mapping(root, indent=0)
        self.write_indent(0)
        if self.open_ended:
            self.write_indicator(
                "...", need_whitespace=True, is_whitespace=False, is_indention=False
            )
            self.write_indent(0)
        return "".join(self.parts)


def _go_yaml_key_less(left: str, right: str) -> bool:
    """go-yaml v2's map key order: letters after other characters, digit runs numerically."""
    for index in range(min(len(left), len(right))):
        a, b = left[index], right[index]
        if a == b:
            continue
        a_letter, b_letter = a.isalpha(), b.isalpha()
        if a_letter and b_letter:
            return a < b
        if a_letter or b_letter:
            return b_letter
        a_number = b_number = 0
        if a == "0" or b == "0":
            back = index - 1
            while back >= 0 and _is_digit(left[back]):
                if left[back] != "0":
                    a_number = b_number = 1
                    break
                back -= 1
        a_end = index
        while a_end < len(left) and _is_digit(left[a_end]):
            a_number = a_number * 10 + ord(left[a_end]) - 48
            a_end += 1
        b_end = index
        while b_end < len(right) and _is_digit(right[b_end]):
            b_number = b_number * 10 + ord(right[b_end]) - 48
            b_end += 1
        if a_number != b_number:
            return a_number < b_number
        if a_end != b_end:
            return a_end < b_end
        return a < b
    return len(left) < len(right)


def _is_digit(char: str) -> bool:
    return unicodedata.category(char) == "Nd"


def _compare_keys(left: str, right: str) -> int:
    if _go_yaml_key_less(left, right):
        return -1
    if _go_yaml_key_less(right, left):
        return 1
    return 0


def sorted_map(values: Mapping[str, str]) -> Map:
    keys = sorted(values, key=functools.cmp_to_key(_compare_keys))
    return Map(tuple((key, values[key]) for key in keys))


def sorted_node(items: Iterable[tuple[str, Node]]) -> Map:
    pairs = dict(items)
    keys = sorted(pairs, key=functools.cmp_to_key(_compare_keys))
    return Map(tuple((key, pairs[key]) for key in keys))


def emit_document(root: Map) -> str:
    """One YAML document as go-yaml v2 marshals it (no `---` header)."""
    return _Emitter().document(root)
