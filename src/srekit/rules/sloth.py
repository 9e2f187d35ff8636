"""Sloth-compatible Prometheus rules: the exact bytes `sloth generate` prints.

Teams migrating from Sloth diff srekit's output against Sloth's, so every detail is Sloth's: rule
and group names, label merge order, the multi-window multi-burn-rate expression, Go's float
formatting (`%g` shortest: `0.9990000000000001`, `1e-05`; `'f'` for `sloth_objective`),
Prometheus duration spelling (`4w`, `30d`) and go-yaml v2's emitter (sorted map keys, literal
blocks for multi-line strings, 80-column folding of long plain and quoted scalars). For a
`PrometheusServiceLevel` CRD input the output is the prometheus-operator `PrometheusRule` object,
whose keys are all sorted because Sloth marshals it through JSON.

Alert windows come from `AlertWindows` catalogs keyed by SLO period; the Google SRE Workbook
catalogs for 30 and 28 days are built in, and a user catalog replaces them (as Sloth's
`--slo-period-windows-path` does).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from srekit.errors import SpecError
from srekit.spec.document import Document, read_documents
from srekit.spec.sloth import (
    DEFAULT_SLO_PERIOD_S,
    SlothPluginChain,
    SlothServiceLevel,
    SlothSLO,
    render_window,
)

__all__ = [
    "GOOGLE_28D",
    "GOOGLE_30D",
    "AlertWindows",
    "BurnWindow",
    "generate_sloth_rules",
    "load_alert_windows",
    "parse_alert_windows",
]


# --- alert window catalogs ----------------------------------------------------------------------


@dataclass(frozen=True)
class BurnWindow:
    """One alert of a severity: spend `error_budget_percent` of the budget in `long_window_s`."""

    error_budget_percent: float
    short_window_s: int
    long_window_s: int


@dataclass(frozen=True)
class AlertWindows:
    """Sloth's `AlertWindows` catalog: the four multi-window alerts for one SLO period."""

    slo_period_s: int
    page_quick: BurnWindow
    page_slow: BurnWindow
    ticket_quick: BurnWindow
    ticket_slow: BurnWindow

    def burn_rate_factor(self, window: BurnWindow) -> float:
        """percent × period / 100 / long window, in hours and in Sloth's operation order."""
        hours_to_consume = window.error_budget_percent * _go_hours(self.slo_period_s) / 100
        return hours_to_consume / _go_hours(window.long_window_s)

    def windows_s(self) -> list[int]:
        """Every distinct short and long window, ascending (the SLI recording windows)."""
        alerts = (self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow)
        return sorted({w for a in alerts for w in (a.short_window_s, a.long_window_s)})


def _google(period_days: int) -> AlertWindows:
    # SRE Workbook, "Alerting on SLOs", recommended parameters: 2 %, 5 %, 10 %, 10 %.
    return AlertWindows(
        slo_period_s=period_days * 86400,
        page_quick=BurnWindow(2, 300, 3600),
        page_slow=BurnWindow(5, 1800, 6 * 3600),
        ticket_quick=BurnWindow(10, 2 * 3600, 86400),
        ticket_slow=BurnWindow(10, 6 * 3600, 3 * 86400),
    )


GOOGLE_30D = _google(30)
GOOGLE_28D = _google(28)

_PROM_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_PROM_UNITS_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
# Years and weeks are only used when they divide the duration (Prometheus prints 90d, not 12w6d).
_PROM_DURATION_UNITS = tuple(
    zip(
        ("y", "w", "d", "h", "m", "s", "ms"),
        _PROM_UNITS_MS,
        (True, True, False, False, False, False, False),
        strict=True,
    )
)


def _parse_prom_duration(doc: Document, value: object, where: str) -> int:
    text = value if isinstance(value, str) else ""
    match = _PROM_DURATION.match(text)
    if not text or match is None:
        raise doc.error(where, f"expected a Prometheus duration like 5m, 1h or 30d, got {value!r}")
    total_ms = sum(
        int(part or 0) * unit for part, unit in zip(match.groups(), _PROM_UNITS_MS, strict=True)
    )
    if total_ms <= 0 or total_ms % 1000:
        raise doc.error(where, f"expected a positive whole number of seconds, got {value!r}")
    return total_ms // 1000


def _burn_window(doc: Document, spec: Mapping[str, Any], severity: str, speed: str) -> BurnWindow:
    where = f"spec.{severity}.{speed}"
    severity_body = spec.get(severity)
    body = severity_body.get(speed) if isinstance(severity_body, Mapping) else None
    if not isinstance(body, Mapping):
        raise doc.error(where, "expected errorBudgetPercent, shortWindow and longWindow")
    percent = body.get("errorBudgetPercent")
    if isinstance(percent, bool) or not isinstance(percent, int | float) or percent <= 0:
        raise doc.error(f"{where}.errorBudgetPercent", f"expected a percent > 0, got {percent!r}")
    return BurnWindow(
        error_budget_percent=float(percent),
        short_window_s=_parse_prom_duration(doc, body.get("shortWindow"), f"{where}.shortWindow"),
        long_window_s=_parse_prom_duration(doc, body.get("longWindow"), f"{where}.longWindow"),
    )


def parse_alert_windows(documents: Iterable[Document]) -> list[AlertWindows]:
    """`apiVersion: sloth.slok.dev/v1`, `kind: AlertWindows` documents as catalogs."""
    catalogs: list[AlertWindows] = []
    for doc in documents:
        if doc.data.get("apiVersion") != "sloth.slok.dev/v1":
            raise doc.error("apiVersion", "expected sloth.slok.dev/v1 for an AlertWindows catalog")
        if doc.data.get("kind") != "AlertWindows":
            raise doc.error("kind", f"expected AlertWindows, got {doc.data.get('kind')!r}")
        spec = doc.data.get("spec")
        if not isinstance(spec, Mapping):
            raise doc.error("spec", "expected a mapping with sloPeriod, page and ticket")
        catalogs.append(
            AlertWindows(
                slo_period_s=_parse_prom_duration(doc, spec.get("sloPeriod"), "spec.sloPeriod"),
                page_quick=_burn_window(doc, spec, "page", "quick"),
                page_slow=_burn_window(doc, spec, "page", "slow"),
                ticket_quick=_burn_window(doc, spec, "ticket", "quick"),
                ticket_slow=_burn_window(doc, spec, "ticket", "slow"),
            )
        )
    return catalogs


def load_alert_windows(path: Path) -> list[AlertWindows]:
    """Every catalog in a file or below a directory (Sloth's `--slo-period-windows-path`)."""
    return parse_alert_windows(read_documents(path))


def _catalog_by_period(catalogs: Sequence[AlertWindows]) -> dict[int, AlertWindows]:
    by_period: dict[int, AlertWindows] = {}
    for catalog in catalogs:
        if catalog.slo_period_s in by_period:
            period = _prom_duration(catalog.slo_period_s)
            raise SpecError(f"two alert window catalogs for the SLO period {period}")
        by_period[catalog.slo_period_s] = catalog
    return by_period


# --- Go number and duration formatting ----------------------------------------------------------


def _go_hours(seconds: int) -> float:
    """time.Duration.Hours(): whole hours plus the remainder, as Go computes it."""
    hours, rest = divmod(seconds, 3600)
    return float(hours) + (rest * 1_000_000_000) / (60 * 60 * 1e9)


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and decimal point position (0.d1d2… × 10^dp)."""
    _, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return "0", 1
    assert isinstance(exponent, int)
    stripped = text.rstrip("0")
    point = len(text) + exponent
    return stripped, point


def _go_format_f(value: float) -> str:
    """strconv.FormatFloat(value, 'f', -1, 64)."""
    if value == 0:
        return "0"
    digits, point = _shortest_digits(value)
    sign = "-" if value < 0 else ""
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_format_g(value: float) -> str:
    """fmt's %v / %g for a float64: shortest digits, exponent form below 1e-4 or from 1e6."""
    if value == 0:
        return "0"
    digits, point = _shortest_digits(value)
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        sign = "-" if value < 0 else ""
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return _go_format_f(value)


def _prom_duration(seconds: int) -> str:
    """prometheus/common model.Duration.String(): `4w`, `30d`, `1h30m` (y and w only if exact)."""
    remaining_ms = seconds * 1000
    if remaining_ms == 0:
        return "0s"
    parts: list[str] = []
    for unit, size, exact in _PROM_DURATION_UNITS:
        if exact and remaining_ms % size:
            continue
        count = remaining_ms // size
        if count > 0:
            parts.append(f"{count}{unit}")
            remaining_ms -= count * size
    return "".join(parts)


def _go_quote(text: str) -> str:
    """strconv.Quote: printable runes kept, the rest escaped."""
    escapes = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t"}
    escapes |= {"\v": r"\v", "\\": r"\\", '"': r"\""}
    out: list[str] = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _label_filter(labels: Mapping[str, str]) -> str:
    """model.LabelSet.String(): `{a="1", b="2"}`, names sorted."""
    inner = ", ".join(f"{name}={_go_quote(labels[name])}" for name in sorted(labels))
    return "{" + inner + "}"


# --- go-yaml v2 emitter --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Map, ...]


@dataclass(frozen=True)
class _Map:
    items: tuple[tuple[str, _Map | _Seq | str], ...]


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

    def mapping(self, node: _Map, *, indent: int) -> None:
        for key, value in node.items:
            self.write_indent(indent)
            self.scalar(key, indent=indent + 2, simple_key=True)
            self.write_indicator(
                ":", need_whitespace=False, is_whitespace=False, is_indention=False
            )
            self.node(value, indent=indent, in_mapping=True)

    def sequence(self, node: _Seq, *, indent: int) -> None:
        for item in node.items:
            self.write_indent(indent)
            self.write_indicator("-", need_whitespace=True, is_whitespace=False, is_indention=True)
            self.mapping(item, indent=indent + 2)

    def node(self, value: _Map | _Seq | str, *, indent: int, in_mapping: bool) -> None:
        if isinstance(value, str):
            self.scalar(value, indent=indent + 2, simple_key=False)
        elif isinstance(value, _Map):
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

    def document(self, root: _Map) -> str:
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


def _sorted_map(values: Mapping[str, str]) -> _Map:
    keys = sorted(values, key=functools.cmp_to_key(_compare_keys))
    return _Map(tuple((key, values[key]) for key in keys))


def _sorted_node(items: Iterable[tuple[str, _Map | _Seq | str]]) -> _Map:
    pairs = dict(items)
    keys = sorted(pairs, key=functools.cmp_to_key(_compare_keys))
    return _Map(tuple((key, pairs[key]) for key in keys))


# --- rule generation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """rulefmt.Rule; empty fields are omitted (omitempty)."""

    expr: str
    record: str = ""
    alert: str = ""
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None

    def prometheus_node(self) -> _Map:
        items: list[tuple[str, _Map | _Seq | str]] = []
        if self.record:
            items.append(("record", self.record))
        if self.alert:
            items.append(("alert", self.alert))
        items.append(("expr", self.expr))
        if self.labels:
            items.append(("labels", _sorted_map(self.labels)))
        if self.annotations:
            items.append(("annotations", _sorted_map(self.annotations)))
        return _Map(tuple(items))

    def k8s_node(self) -> _Map:
        return _sorted_node(self.prometheus_node().items)


@dataclass(frozen=True)
class _Group:
    name: str
    rules: tuple[_Rule, ...]


@dataclass(frozen=True)
class _Info:
    version: str
    mode: str
    spec: str


_MODES = {
    "prometheus/v1": "cli-gen-prom",
    "sloth.slok.dev/v1": "cli-gen-k8s",
    "openslo/v1alpha": "cli-gen-openslo",
}

_ALERT_TEMPLATE = """(
    max({quick_short}{filter} > ({quick_factor} * {budget})) without (sloth_window)
    and
    max({quick_long}{filter} > ({quick_factor} * {budget})) without (sloth_window)
)
or
(
    max({slow_short}{filter} > ({slow_factor} * {budget})) without (sloth_window)
    and
    max({slow_long}{filter} > ({slow_factor} * {budget})) without (sloth_window)
)
"""

_BURN_RATE_TEMPLATE = """{metric}{filter}
/ on(sloth_id, sloth_slo, sloth_service) group_left
slo:error_budget:ratio{filter}
"""

_NOOP_PLUGINS = {"sloth.dev/core/debug/v1", "sloth.dev/core/noop/v1", "sloth.dev/core/validate/v1"}
_RULE_PLUGINS = {
    "sloth.dev/core/sli_rules/v1": "sli",
    "sloth.dev/core/metadata_rules/v1": "meta",
    "sloth.dev/core/alert_rules/v1": "alerts",
}


@dataclass(frozen=True)
class _Stages:
    """Which of Sloth's core rule plugins run for an SLO, after its plugin chains."""

    sli: bool = True
    meta: bool = True
    alerts: bool = True
    optimized: bool = True


def _stages(level: SlothServiceLevel, slo: SlothSLO) -> _Stages:
    """Emulate the plugin chains built only from Sloth's built-in core plugins.

    Core plugins are compiled into Sloth, so their effect is known: debug, noop and validate
    leave the rules alone, and the rule plugins each own one rule group. Any other plugin is
    Go code srekit cannot run.
    """
    chains: list[SlothPluginChain] = [level.plugins, slo.plugins]
    doc = level.document
    for chain in chains:
        for index, plugin in enumerate(chain.plugins):
            if plugin.id not in _NOOP_PLUGINS and plugin.id not in _RULE_PLUGINS:
                raise doc.error(
                    f"{chain.path}.chain[{index}].id",
                    f"Sloth SLO plugins (Go) are not supported by srekit (plugin {plugin.id!r}); "
                    "only Sloth's built-in sloth.dev/core plugins can be listed",
                )
    active: list[SlothPluginChain] = []
    for chain in chains:
        if chain.override_previous:
            active = []
        active.append(chain)
    overridden = any(chain.override_previous for chain in chains)
    listed = {plugin.id for chain in active for plugin in chain.plugins}
    optimized = True
    for chain in active:
        for plugin in sorted(chain.plugins, key=lambda one: one.priority):
            if plugin.id == "sloth.dev/core/sli_rules/v1":
                config = plugin.config if isinstance(plugin.config, Mapping) else {}
                optimized = not bool(config.get("disableOptimized", False))
    present = {stage for plugin_id, stage in _RULE_PLUGINS.items() if plugin_id in listed}
    return _Stages(
        sli=not overridden or "sli" in present,
        meta=not overridden or "meta" in present,
        alerts=not overridden or "alerts" in present,
        optimized=optimized,
    )


def _sli_metric(window_s: int) -> str:
    return f"slo:sli_error:ratio_rate{_prom_duration(window_s)}"


def _sli_rules(
    slo: SlothSLO,
    catalog: AlertWindows,
    period_s: int,
    labels: Mapping[str, str],
    *,
    optimized: bool,
) -> list[_Rule]:
    id_labels = _id_labels(slo)
    rules: list[_Rule] = []
    for window_s in [*catalog.windows_s(), period_s]:
        window = _prom_duration(window_s)
        if optimized and window_s == period_s:
            short = _sli_metric(catalog.page_quick.short_window_s)
            filter_ = _label_filter(id_labels)
            expr = (
                f"sum_over_time({short}{filter_}[{window}])\n"
                "/ ignoring (sloth_window)\n"
                f"count_over_time({short}{filter_}[{window}])\n"
            )
        elif slo.sli.kind == "events":
            expr = render_window(f"({slo.sli.error_query})\n/\n({slo.sli.total_query})\n", window)
        else:
            expr = render_window(f"({slo.sli.error_ratio_query})", window)
        rules.append(
            _Rule(
                record=_sli_metric(window_s),
                expr=expr,
                labels={**id_labels, "sloth_window": window, **labels},
            )
        )
    return rules


def _id_labels(slo: SlothSLO) -> dict[str, str]:
    return {"sloth_id": slo.id, "sloth_service": slo.service, "sloth_slo": slo.name}


def _meta_rules(
    slo: SlothSLO,
    catalog: AlertWindows,
    period_s: int,
    labels: Mapping[str, str],
    info: _Info,
) -> list[_Rule]:
    id_labels = _id_labels(slo)
    filter_ = _label_filter(id_labels)
    merged = {**id_labels, **labels}
    objective_ratio = _go_format_g(slo.objective / 100)
    current = _sli_metric(catalog.page_quick.short_window_s)
    period_metric = _sli_metric(period_s)
    info_labels = {
        **merged,
        "sloth_version": info.version,
        "sloth_mode": info.mode,
        "sloth_spec": info.spec,
        "sloth_objective": _go_format_f(slo.objective),
    }
    return [
        _Rule(record="slo:objective:ratio", expr=f"vector({objective_ratio})", labels=merged),
        _Rule(record="slo:error_budget:ratio", expr=f"vector(1-{objective_ratio})", labels=merged),
        _Rule(
            record="slo:time_period:days",
            expr=f"vector({_go_format_g(_go_hours(period_s) / 24)})",
            labels=merged,
        ),
        _Rule(
            record="slo:current_burn_rate:ratio",
            expr=_BURN_RATE_TEMPLATE.format(metric=current, filter=filter_),
            labels=merged,
        ),
        _Rule(
            record="slo:period_burn_rate:ratio",
            expr=_BURN_RATE_TEMPLATE.format(metric=period_metric, filter=filter_),
            labels=merged,
        ),
        _Rule(
            record="slo:period_error_budget_remaining:ratio",
            expr=f"1 - slo:period_burn_rate:ratio{filter_}",
            labels=merged,
        ),
        _Rule(record="sloth_slo_info", expr="vector(1)", labels=info_labels),
    ]


def _alert_rules(slo: SlothSLO, catalog: AlertWindows) -> list[_Rule]:
    filter_ = _label_filter(_id_labels(slo))
    budget = _go_format_g((100 - slo.objective) / 100)
    rules: list[_Rule] = []
    severities = (
        ("page", slo.page, catalog.page_quick, catalog.page_slow),
        ("ticket", slo.ticket, catalog.ticket_quick, catalog.ticket_slow),
    )
    for severity, alert, quick, slow in severities:
        if alert.disabled:
            continue
        expr = _ALERT_TEMPLATE.format(
            filter=filter_,
            budget=budget,
            quick_short=_sli_metric(quick.short_window_s),
            quick_long=_sli_metric(quick.long_window_s),
            quick_factor=_go_format_g(catalog.burn_rate_factor(quick)),
            slow_short=_sli_metric(slow.short_window_s),
            slow_long=_sli_metric(slow.long_window_s),
            slow_factor=_go_format_g(catalog.burn_rate_factor(slow)),
        )
        annotations = {
            "title": (
                f"({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} "
                "SLO error budget burn rate is too fast."
            ),
            "summary": (
                "{{$labels.sloth_service}} {{$labels.sloth_slo}} "
                "SLO error budget burn rate is over expected."
            ),
        }
        rules.append(
            _Rule(
                alert=slo.alert_name,
                expr=expr,
                labels={"sloth_severity": severity, **slo.alert_labels, **alert.labels},
                annotations={**annotations, **slo.alert_annotations, **alert.annotations},
            )
        )
    return rules


def _groups(
    level: SlothServiceLevel,
    *,
    info: _Info,
    extra_labels: Mapping[str, str],
    default_period_s: int,
    catalogs: Mapping[int, AlertWindows],
    disable_alerts: bool,
    disable_recordings: bool,
) -> list[_Group]:
    doc = level.document
    groups: list[_Group] = []
    for slo in level.slos:
        if slo.sli.kind == "plugin":
            raise doc.error(
                f"{slo.path}.sli.plugin",
                f"Sloth SLI plugins (Go) are not supported by srekit (plugin "
                f"{slo.sli.plugin_id!r}); use sli.events or sli.raw",
            )
        stages = _stages(level, slo)
        period_s = slo.period_s or default_period_s
        catalog = catalogs.get(period_s)
        if catalog is None:
            known = ", ".join(_prom_duration(period) for period in sorted(catalogs)) or "none"
            raise doc.error(
                slo.path,
                f"no alert windows for the SLO period {_prom_duration(period_s)} "
                f"(catalogs cover: {known}); pass a window catalog for it",
            )
        labels = {**slo.labels, **extra_labels}
        if not disable_recordings and stages.sli:
            rules = _sli_rules(slo, catalog, period_s, labels, optimized=stages.optimized)
            groups.append(_Group(f"sloth-slo-sli-recordings-{slo.id}", tuple(rules)))
        if not disable_recordings and stages.meta:
            rules = _meta_rules(slo, catalog, period_s, labels, info)
            groups.append(_Group(f"sloth-slo-meta-recordings-{slo.id}", tuple(rules)))
        if not disable_alerts and stages.alerts:
            alerts = _alert_rules(slo, catalog)
            if alerts:
                groups.append(_Group(f"sloth-slo-alerts-{slo.id}", tuple(alerts)))
    return groups


def _prometheus_document(groups: Sequence[_Group]) -> _Map:
    return _Map(
        (
            (
                "groups",
                _Seq(
                    tuple(
                        _Map(
                            (
                                ("name", group.name),
                                ("rules", _Seq(tuple(r.prometheus_node() for r in group.rules))),
                            )
                        )
                        for group in groups
                    )
                ),
            ),
        )
    )


def _k8s_document(level: SlothServiceLevel, groups: Sequence[_Group]) -> _Map:
    meta = level.k8s
    if meta is None:
        raise level.document.error(
            None, "PrometheusRule output needs a PrometheusServiceLevel (its metadata) as input"
        )
    labels = {
        "app.kubernetes.io/component": "SLO",
        "app.kubernetes.io/managed-by": "sloth",
        **meta.labels,
    }
    metadata: list[tuple[str, _Map | _Seq | str]] = [
        ("name", meta.name),
        ("labels", _sorted_map(labels)),
    ]
    if meta.namespace:
        metadata.append(("namespace", meta.namespace))
    if meta.annotations:
        metadata.append(("annotations", _sorted_map(meta.annotations)))
    group_nodes = tuple(
        _sorted_node(
            (("name", group.name), ("rules", _Seq(tuple(r.k8s_node() for r in group.rules))))
        )
        for group in groups
    )
    return _sorted_node(
        (
            ("apiVersion", "monitoring.coreos.com/v1"),
            ("kind", "PrometheusRule"),
            ("metadata", _sorted_node(metadata)),
            ("spec", _sorted_node((("groups", _Seq(group_nodes)),))),
        )
    )


def generate_sloth_rules(
    slos: Sequence[SlothServiceLevel],
    *,
    version: str = "dev",
    extra_labels: Mapping[str, str] | None = None,
    slo_period_s: int = DEFAULT_SLO_PERIOD_S,
    window_catalog: Path | Sequence[AlertWindows] | None = None,
    disable_alerts: bool = False,
    disable_recordings: bool = False,
    output: Literal["prometheus", "k8s"] | None = None,
) -> str:
    """What `sloth generate` prints for these service levels (one YAML document each).

    `version` fills `sloth_version` and the header; `extra_labels` go on every recording rule
    (Sloth's `-l`); `slo_period_s` is the period of specs that do not state one
    (`--default-slo-period`); `window_catalog` replaces the built-in Google 30d/28d catalogs
    (`--slo-period-windows-path`). The output form follows the input (PrometheusRule for the
    CRD) unless `output` forces one. Raises SpecError for Go plugins and periods without windows.
    """
    if window_catalog is None:
        catalogs = _catalog_by_period([GOOGLE_30D, GOOGLE_28D])
    elif isinstance(window_catalog, Path):
        catalogs = _catalog_by_period(load_alert_windows(window_catalog))
    else:
        catalogs = _catalog_by_period(window_catalog)
    header = (
        f"\n---\n# Code generated by Sloth ({version}): https://github.com/slok/sloth.\n"
        "# DO NOT EDIT.\n\n"
    )
    documents: list[str] = []
    for level in slos:
        info = _Info(version=version, mode=_MODES[level.spec], spec=level.spec)
        groups = _groups(
            level,
            info=info,
            extra_labels=extra_labels or {},
            default_period_s=slo_period_s,
            catalogs=catalogs,
            disable_alerts=disable_alerts,
            disable_recordings=disable_recordings,
        )
        form = output or ("k8s" if level.k8s is not None else "prometheus")
        root = _k8s_document(level, groups) if form == "k8s" else _prometheus_document(groups)
        documents.append(header + _Emitter().document(root))
    return "".join(documents)
