"""The JSON body of an event, as webhooks receive it and as the API lists it.

One shape for an event fresh from the tracker (`event_body`) and for one read back from the
events table (`stored_event_body`): compact UTF-8 JSON, times as ISO 8601 UTC ending in Z,
durations as whole seconds, fields other than the common ones under "data".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from bouncer.core.tracker import Event

BODY_FIELDS = (
    "id",
    "type",
    "at",
    "recorded_at",
    "recipient",
    "final_recipient",
    "original_message_id",
    "original_from",
    "original_subject",
    "status",
    "reason",
    "class",
    "diagnostic",
    "attempts",
    "age_seconds",
)


def event_body(event_id: str, event: Event) -> bytes:
    """Return the JSON body of a webhook for one event (UTF-8, compact, times in UTC)."""
    payload = {
        "id": event_id,
        "type": event.type,
        "at": iso_utc(event.at),
        "recorded_at": iso_utc(event.at),
        "recipient": event.recipient,
        "final_recipient": event.final_recipient,
        "original_message_id": event.original.message_id,
        "original_from": event.original.from_addr,
        "original_subject": event.original.subject,
        "status": event.status,
        "reason": event.reason,
        "class": event.bounce_class,
        "diagnostic": event.diagnostic,
        "attempts": event.attempts,
        "age_seconds": _json_value(event.age),
        "data": {name: _json_value(value) for name, value in event.data.items()},
    }
    return _encode(payload)


def stored_event_body(stored: Mapping[str, object]) -> bytes:
    """Return the JSON body for an event as listed by `store.events.search` (same shape).

    The top-level fields are taken from the stored event; every other stored field except the
    table's `seq` goes under "data". An `age` in the stored data becomes `age_seconds`.
    """
    fields = {name: value for name, value in stored.items() if name != "seq"}
    if "age_seconds" not in fields and "age" in fields:
        fields["age_seconds"] = fields.pop("age")
    payload = {name: _json_value(fields.pop(name, None)) for name in BODY_FIELDS}
    payload["at"] = _stored_time(payload["at"])
    payload["recorded_at"] = _stored_time(payload["recorded_at"])
    payload["data"] = {name: _json_value(value) for name, value in sorted(fields.items())}
    return _encode(payload)


def iso_utc(moment: datetime) -> str:
    """Return an ISO 8601 UTC timestamp ending in Z (naive times are taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _encode(payload: Mapping[str, object]) -> bytes:
    """Return the compact UTF-8 JSON form of a body."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _stored_time(value: object) -> object:
    """Return a stored ISO time re-rendered like `iso_utc` (other values unchanged)."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return iso_utc(moment)


def _json_value(value: object) -> object:
    """Return a JSON-ready value: datetimes as ISO UTC, durations as whole seconds."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return value
