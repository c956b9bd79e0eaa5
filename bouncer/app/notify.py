"""Emit events once they are committed: one structlog line per event."""

from __future__ import annotations

from collections.abc import Iterable

import structlog

log = structlog.get_logger("bouncer.events")

_LOGGED_FIELDS = (
    "id",
    "recipient",
    "status",
    "reason",
    "class",
    "diagnostic",
    "original_message_id",
    "source",
    "expires_at",
    "message",
    "held_by",
    "provider",
    "scope",
    "domain",
    "count",
    "peak",
)


def emit(events: Iterable[dict]) -> None:
    """Log every committed event under its own type name with its key fields."""
    for event in events:
        fields = {key: event[key] for key in _LOGGED_FIELDS if event.get(key) is not None}
        log.info(event["type"], **fields)
