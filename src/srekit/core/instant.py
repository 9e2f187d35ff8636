"""Instants as srekit reads and writes them: RFC 3339 in UTC, and ages for people to read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["CLOCK_SKEW", "format_age", "format_instant", "parse_instant", "past_instant"]

#: An instant a little ahead of this machine's clock is another machine's now, not the future.
CLOCK_SKEW = timedelta(minutes=1)


def parse_instant(text: str) -> datetime:
    """An aware UTC datetime from RFC 3339 text (`2026-11-01T10:00:00Z`, `...+02:00`).

    A time without a zone is refused: it would mean a different instant on every machine.
    Raises ValueError saying what was expected.
    """
    cleaned = text.strip()
    try:
        if not cleaned.isprintable():  # fromisoformat reads "...Z\x00anything" up to the NUL
            raise ValueError
        parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected an RFC 3339 time like 2026-11-01T00:00:00Z, got {text!r}"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"expected a time zone (Z or +02:00) in {text!r}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first instant Python has
        raise ValueError(
            f"expected a time between the years 1 and 9999 in UTC, got {text!r}"
        ) from None


def past_instant(text: str | None, *, now: datetime) -> datetime:
    """The instant `text` names (RFC 3339), or `now` when None: the instant to evaluate at.

    An instant past `now` and `CLOCK_SKEW` is refused with ValueError, as malformed text is:
    no data exists there yet, and figures computed on the part of a window that has happened
    would read as if the rest had been perfect.
    """
    if text is None:
        return now
    when = parse_instant(text)
    if when > now + CLOCK_SKEW:
        raise ValueError(f"{text} is in the future (now is {format_instant(now)})")
    return when


def format_instant(moment: datetime) -> str:
    """`2026-11-22T10:00:00Z`: UTC, whole seconds, a Z suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_age(elapsed: timedelta) -> str:
    """`3m20s`, `2h5m`, `1d3h`: the two largest units, for people reading a detail.

    Negative ages (a clock that went back) read as `0s`.
    """
    seconds = max(0, int(elapsed.total_seconds()))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts[:2])
