"""/v1/events (for pollers that take no webhooks) and /v1/stats (failures per bucket)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

import msgspec
from aiohttp import web

from bouncer.clock import to_iso
from bouncer.core.tracker_types import EVENT_TYPES
from bouncer.http.app import backend
from bouncer.http.auth import needs
from bouncer.http.errors import ApiError, reply
from bouncer.http.params import Limit, Time, allows, iso, query
from bouncer.store import events, stats

routes = web.RouteTableDef()
EventType = Annotated[Literal[EVENT_TYPES], allows(f"an event type ({', '.join(EVENT_TYPES)})")]
After = Annotated[
    str, allows("an event's seq (a whole number) or id", pattern=r"^[0-9A-Za-z-]{1,64}$")
]
Bucket = Annotated[Literal[tuple(stats.BUCKETS)], allows(f"one of {', '.join(stats.BUCKETS)}")]
DEFAULT_WINDOW = timedelta(days=1)


class EventQuery(msgspec.Struct, forbid_unknown_fields=True):
    """Query of GET /v1/events."""

    after: After | None = None
    type: EventType | None = None
    limit: Limit = 100


class StatsQuery(msgspec.Struct, forbid_unknown_fields=True):
    """Query of GET /v1/stats."""

    by: Bucket = "reason"
    since: Time | None = None
    until: Time | None = None


@routes.get("/v1/events")
@needs("read")
async def listing(request: web.Request) -> web.Response:
    """Events committed after a position, in commit order; `next_after` for the next poll."""
    asked = query(request, EventQuery)
    after = asked.after

    def load(db):  # noqa: ANN001, ANN202
        seq = _position(db, after)
        found = events.search(db, event_type=asked.type, after_seq=seq, limit=asked.limit)
        return seq, found

    seq, found = await backend(request).read(load)
    return reply({"events": found, "next_after": found[-1]["seq"] if found else seq})


def _position(db, after: str | None) -> int:  # noqa: ANN001
    """Return the seq an `after` value names (a seq, or an event id); 400 for an unknown id."""
    if after is None:
        return 0
    if after.isdigit():
        return int(after)
    seq = events.seq_of(db, after)
    if seq is None:
        raise ApiError(400, f"after: no event has the id {after!r}", "after")
    return seq


@routes.get("/v1/stats")
@needs("read")
async def counts(request: web.Request) -> web.Response:
    """Failures (hard or soft records) per bucket in [since, until); default the last 24 h."""
    asked = query(request, StatsQuery)
    service = backend(request)
    until = iso(asked.until, "until")
    since = iso(asked.since, "since") or to_iso(service.clock() - DEFAULT_WINDOW)
    if until is not None and until <= since:
        raise ApiError(400, f"until: must be after since ({since}) (got {until})", "until")
    rows = await service.read(lambda db: stats.counts(db, asked.by, since, until))
    return reply(
        {
            "by": asked.by,
            "since": since,
            "until": until,
            "buckets": [{"bucket": bucket, "count": count} for bucket, count in rows],
        }
    )
