"""Time helpers: the one clock read (at the edges) and the ISO 8601 form stored in the database."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC (call only from the shell, never the core)."""
    return datetime.now(UTC)


def to_iso(moment: datetime | None) -> str | None:
    """Return a fixed-width UTC ISO 8601 string (sorts as text); naive times are taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def from_iso(text: str | None) -> datetime | None:
    """Parse an ISO 8601 string (a trailing Z allowed; naive taken as UTC); None when empty."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
