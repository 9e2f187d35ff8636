"""RFC 3339 instants in and out, and ages as people read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from srekit.core.instant import format_age, format_instant, parse_instant, past_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01T10:00:00Z", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        ("2026-11-01T10:00:00z", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        (" 2026-11-01T12:30:00+02:00 ", datetime(2026, 11, 1, 10, 30, tzinfo=UTC)),
        ("2026-11-01T10:00:00.250-01:00", datetime(2026, 11, 1, 11, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_parse_instant_gives_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-11-01T10:00:00", "expected a time zone (Z or +02:00) in '2026-11-01T10:00:00'"),
        ("yesterday", "expected an RFC 3339 time like 2026-11-01T00:00:00Z, got 'yesterday'"),
        ("", "expected an RFC 3339 time like 2026-11-01T00:00:00Z, got ''"),
        ("2026-13-01T00:00:00Z", "got '2026-13-01T00:00:00Z'"),
        ("2026-11-01T10:00:00Z\x00junk", "got '2026-11-01T10:00:00Z\\x00junk'"),
        ("0001-01-01T00:00:00+01:00", "between the years 1 and 9999 in UTC"),
        ("9999-12-31T23:59:59-01:00", "between the years 1 and 9999 in UTC"),
    ],
)
def test_parse_instant_says_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="expected") as caught:
        parse_instant(text)
    assert message in str(caught.value)


def test_format_instant_is_utc_seconds_with_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_instant(datetime(2026, 11, 1, 12, 0, 5, 999999, tzinfo=plus_two)) == (
        "2026-11-01T10:00:05Z"
    )
    assert parse_instant(format_instant(datetime(2026, 3, 29, 1, tzinfo=UTC))) == datetime(
        2026, 3, 29, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (200, "3m20s"),
        (3600, "1h"),
        (3660, "1h1m"),
        (7500, "2h5m"),
        (97_200, "1d3h"),
        (90_061, "1d1h"),  # the third unit is dropped
        (-5, "0s"),
    ],
)
def test_format_age_keeps_two_units(seconds: int, text: str) -> None:
    assert format_age(timedelta(seconds=seconds)) == text


def test_past_instant_is_now_or_text_up_to_a_minute_ahead() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert past_instant(None, now=now) == now
    assert past_instant("2026-12-03T11:00:00Z", now=now) == now - timedelta(hours=1)
    assert past_instant("2026-12-03T12:01:00Z", now=now) == now + timedelta(minutes=1)
    with pytest.raises(
        ValueError, match=r"^2026-12-03T12:01:01Z is in the future \(now is 2026-12-03T12:00:00Z\)$"
    ):
        past_instant("2026-12-03T12:01:01Z", now=now)
    with pytest.raises(ValueError, match="expected an RFC 3339 time"):
        past_instant("tomorrow", now=now)
