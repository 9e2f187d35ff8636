"""Go's float formatting, as Sloth's output spells numbers.

`strconv.FormatFloat(v, 'f', -1, 64)`, fmt's `%g`/`%v` (shortest round-trip digits, exponent
form below 1e-4 or from 1e6) and `time.Duration.Hours()`, computed the way Go computes them so
that srekit's numbers match Sloth's to the last digit.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["go_format_f", "go_format_g", "go_hours"]


def go_hours(seconds: int) -> float:
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


def go_format_f(value: float) -> str:
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


def go_format_g(value: float) -> str:
    """fmt's %v / %g for a float64: shortest digits, exponent form below 1e-4 or from 1e6."""
    if value == 0:
        return "0"
    digits, point = _shortest_digits(value)
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        sign = "-" if value < 0 else ""
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return go_format_f(value)
