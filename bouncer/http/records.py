"""/v1/bounces (the bounce log) and /v1/messages/{id} (one stored report, parsed).

A bounce record is one recipient of one received report: when it came, the return path it
came back to (`bounce_address`: the original message's envelope sender), the original
message's From, Subject and Message-ID, the recipient, status, reply code, class, reason,
reporting and remote MTA, and the remote server's text (`diagnostic`).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import msgspec
from aiohttp import web

from bouncer.core.analyse import analyse_bytes
from bouncer.http.app import backend
from bouncer.http.auth import is_admin, needs
from bouncer.http.errors import ApiError, reply
from bouncer.http.params import (
    Class,
    Cursor,
    Limit,
    Reason,
    ReturnPath,
    Time,
    allows,
    decode_cursor,
    encode_cursor,
    iso,
    query,
)
from bouncer.store import inbox, records

routes = web.RouteTableDef()
Kind = Annotated[
    str,
    allows(
        "bounce, delay, delivered, autoreply, complaint or unknown",
        pattern=r"^(bounce|delay|delivered|autoreply|complaint|unknown)$",
    ),
]
Text = Annotated[str, allows("text of 1 to 320 characters", min_length=1, max_length=320)]


class BounceQuery(msgspec.Struct, forbid_unknown_fields=True):
    """Query of GET /v1/bounces."""

    recipient: Text | None = None
    sender: ReturnPath | None = None
    message_id: Text | None = None
    since: Time | None = None
    until: Time | None = None
    bounce_class: Class | None = msgspec.field(default=None, name="class")
    reason: Reason | None = None
    kind: Kind | None = None
    limit: Limit = 100
    cursor: Cursor | None = None


@routes.get("/v1/bounces")
@needs("read")
async def bounces(request: web.Request) -> web.Response:
    """A page of bounce records, newest first, and the cursor of the next page."""
    asked = query(request, BounceQuery)
    after = decode_cursor(asked.cursor, (str, int))
    filters = {
        "recipient": asked.recipient,
        "sender": asked.sender,
        "orig_message_id": asked.message_id,
        "since": iso(asked.since, "since"),
        "until": iso(asked.until, "until"),
        "bounce_class": asked.bounce_class,
        "reason": asked.reason,
        "kind": asked.kind,
    }
    rows = await backend(request).read(
        lambda db: records.page(db, after=after, limit=asked.limit, **filters)
    )
    more = len(rows) == asked.limit
    return reply(
        {
            "bounces": [row for _, row in rows],
            "next_cursor": encode_cursor(rows[-1][0]) if more else None,
        }
    )


def _message_id(request: web.Request) -> int:
    """Return the {id} path part; 400 naming `id` unless it is a positive whole number."""
    text = request.match_info["id"]
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise ApiError(400, f"id: must be a stored message's number (got {text!r})", "id")
    return int(text)


async def _stored(request: web.Request) -> tuple[dict, list[dict], bytes | None]:
    """Return a stored message, its records and its raw copy; 404 when there is none."""
    number = _message_id(request)

    def load(db):  # noqa: ANN001, ANN202
        found = inbox.message(db, number)
        if found is None:
            return None
        return found, records.for_message(db, number), inbox.raw_of(db, number)

    stored = await backend(request).read(load)
    if stored is None:
        raise ApiError(404, f"no stored message {number}", "id")
    return stored


@routes.get("/v1/messages/{id}")
@needs("read")
async def message(request: web.Request) -> web.Response:
    """A stored message: envelope and state, its records, the report as parsed now; and, for
    admin tokens, its raw form (as text; null once pruned)."""
    found, written, raw = await _stored(request)
    overrides = backend(request).class_overrides
    body = {"message": found, "records": written, "report": _parsed(raw, overrides)}
    if is_admin(request):
        body["raw"] = raw.decode("utf-8", "replace") if raw else None
    return reply(body)


@routes.get("/v1/messages/{id}/raw")
@needs("admin")
async def raw_message(request: web.Request) -> web.Response:
    """The stored message exactly as received (message/rfc822); 410 once pruned."""
    found, _, raw = await _stored(request)
    if not raw:
        raise ApiError(410, f"the raw copy of message {found['id']} was pruned", "id")
    return web.Response(body=raw, content_type="message/rfc822")


def _parsed(raw: bytes | None, overrides: dict) -> dict | None:
    """Parse and classify a raw copy again, with the rules of this version (None: pruned)."""
    if not raw:
        return None
    analysis = analyse_bytes(raw, overrides)
    report = analysis.report
    return {
        **analysis.as_dict(),
        "reporting_mta": report.reporting_mta,
        "arrival_date": _text(report.arrival_date),
        "envelope_id": report.envelope_id,
        "original": asdict(report.original),
        "subject": report.subject,
        "sender": report.sender,
    }


def _text(moment: datetime | None) -> str | None:
    """Write a time in ISO 8601 (None stays None)."""
    return moment.isoformat() if moment else None
