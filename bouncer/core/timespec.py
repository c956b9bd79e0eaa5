"""Times and durations as people type them: "30m", "4h", "7d", "2w", or ISO 8601.

One parser for every place that takes a duration (the config's timers and keep periods, the
command line's --expires) and every place that takes a moment (--since, --until, --now): a
duration means that long before `now` ("7d": seven days ago; "+4h": four hours ahead), anything
else is read as ISO 8601 by `datetime.fromisoformat` (Python 3.11: dates, date-times, with or
without seconds, fractions and zone; a trailing Z; a time without zone is UTC). Pure: `now` is
passed in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# A number and an optional unit: s(econds), m(inutes), h(ours), d(ays), w(eeks).
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RELATIVE = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d+)?\s*[smhdw])\s*$")
MOMENT_WORDS = (
    'a time such as "30m", "1h", "7d" or "2w" before now ("+4h": ahead), '
    'or ISO 8601 such as "2026-03-02" or "2026-03-02T09:00:00Z"'
)
DURATION_WORDS = 'a duration such as "30s", "90m", "4h", "4d" or "2w"'


def parse_duration(text: str | float) -> timedelta:
    """Turn 30 (seconds), "30s", "90m", "4h", "4d" or "2w" into a timedelta.

    Raises ValueError naming what is allowed for anything else, or for a duration too long for
    a timedelta (beyond a million years, inf, nan).
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(text) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"{text!r} is not {DURATION_WORDS}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        return timedelta(seconds=seconds)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{text!r} is too long a duration") from exc


def parse_moment(text: str, now: datetime, *, ahead: bool = False) -> datetime:
    """Return the moment a text names, timezone-aware UTC.

    A duration with a unit counts back from `now` ("7d": seven days before it), or forward with
    `ahead` (an expiry: "14d" from now); a leading "+" or "-" says the direction outright. Any
    other text is ISO 8601; without a zone it is UTC. Raises ValueError naming what is allowed.
    """
    relative = _RELATIVE.match(text)
    if relative:
        sign, amount = relative.groups()
        forward = sign == "+" or (ahead and not sign)
        duration = parse_duration(amount)
        try:
            return now + duration if forward else now - duration
        except OverflowError as exc:
            raise ValueError(f"{text!r} is too far from now") from exc
    try:
        return parse_iso(text)
    except ValueError:
        raise ValueError(f"{text!r} is not {MOMENT_WORDS}") from None


def parse_iso(text: str) -> datetime:
    """Return the moment an ISO 8601 date or date-time names, timezone-aware UTC.

    Read by `datetime.fromisoformat` (a trailing Z allowed); without a zone it is UTC. Raises
    ValueError naming what is allowed.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not an ISO 8601 date or time") from None
