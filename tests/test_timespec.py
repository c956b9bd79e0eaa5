"""Times and durations as typed on the command line and in the config (bouncer.core.timespec)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bouncer.core.timespec import parse_duration, parse_moment

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("1h", NOW - timedelta(hours=1)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        ("90s", NOW - timedelta(seconds=90)),
        (" 1.5h ", NOW - timedelta(minutes=90)),
        ("-7d", NOW - timedelta(days=7)),
        ("+4h", NOW + timedelta(hours=4)),
    ],
)
def test_a_duration_counts_back_from_now(text: str, expected: datetime) -> None:
    assert parse_moment(text, NOW) == expected


def test_ahead_counts_a_bare_duration_forward_and_a_sign_still_decides() -> None:
    assert parse_moment("14d", NOW, ahead=True) == NOW + timedelta(days=14)
    assert parse_moment("-1h", NOW, ahead=True) == NOW - timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-01", datetime(2026, 2, 1, tzinfo=UTC)),
        ("2026-02-01T10:15", datetime(2026, 2, 1, 10, 15, tzinfo=UTC)),
        ("2026-02-01T10:15:30Z", datetime(2026, 2, 1, 10, 15, 30, tzinfo=UTC)),
        ("2026-02-01T10:15:30.250z", datetime(2026, 2, 1, 10, 15, 30, 250000, tzinfo=UTC)),
        ("2026-02-01 12:15:30+02:00", datetime(2026, 2, 1, 10, 15, 30, tzinfo=UTC)),
        ("20260201T101530", datetime(2026, 2, 1, 10, 15, 30, tzinfo=UTC)),
    ],
)
def test_iso_8601_dates_and_times_naive_being_utc(text: str, expected: datetime) -> None:
    moment = parse_moment(text, NOW)
    assert moment == expected and moment.tzinfo is UTC


def test_a_zone_is_turned_into_utc() -> None:
    moment = parse_moment("2026-02-01T05:00-05:00", NOW)
    assert moment.utcoffset() == timedelta(0)
    assert moment == datetime(2026, 2, 1, 5, tzinfo=timezone(timedelta(hours=-5)))


@pytest.mark.parametrize("text", ["", "yesterday", "7", "7x", "1h30", "2026-13-01", "--1h"])
def test_anything_else_is_refused_naming_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601") as raised:
        parse_moment(text, NOW)
    assert repr(text) in str(raised.value) and '"7d"' in str(raised.value)


def test_too_far_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="too"):
        parse_moment("99999999999w", NOW)
    with pytest.raises(ValueError, match="too far"):
        parse_moment("200000w", NOW)


def test_durations() -> None:
    assert parse_duration("4h") == timedelta(hours=4)
    assert parse_duration(" 2w") == timedelta(weeks=2)
    assert parse_duration(30) == timedelta(seconds=30)
    assert parse_duration("45") == timedelta(seconds=45)
    for bad in ("4 parsecs", "", True, None, "-1h"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="too long"):
        parse_duration(float("inf"))
