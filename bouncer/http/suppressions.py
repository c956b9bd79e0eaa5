"""/v1/suppressions: look up one address or a batch, list, add and remove by hand.

Changes go through `bouncer.app.editing`, as `bouncer suppression add/remove` make them: each
records who (`api:<token name>`), when and why, and emits its event; they run on the daemon's
processor thread. An entry a complaint set is removed only with `?force=true`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import msgspec
from aiohttp import web

from bouncer.app import editing
from bouncer.config import ConfigError, parse_duration
from bouncer.core.addresses import looks_like_address
from bouncer.http.app import backend
from bouncer.http.auth import TOKEN, needs
from bouncer.http.errors import ApiError, reply
from bouncer.http.params import (
    Address,
    Class,
    Cursor,
    Limit,
    Reason,
    Time,
    allows,
    body,
    decode_cursor,
    encode_cursor,
    iso,
    query,
)
from bouncer.store import changes, suppressions

routes = web.RouteTableDef()
MAX_CHECK = 10_000
Text = Annotated[str, allows("text of 1 to 1000 characters", min_length=1, max_length=1000)]


class ListQuery(msgspec.Struct, forbid_unknown_fields=True):
    """Query of GET /v1/suppressions."""

    reason: Reason | None = None
    # "class" is a Python keyword: the parameter is renamed in the query string
    bounce_class: Class | None = msgspec.field(default=None, name="class")
    since: Time | None = None
    until: Time | None = None
    limit: Limit = 100
    cursor: Cursor | None = None


class Check(msgspec.Struct, forbid_unknown_fields=True):
    """Body of POST /v1/suppressions/check."""

    addresses: Annotated[
        list[Address],
        allows(f"a list of 1 to {MAX_CHECK:,} email addresses", min_length=1, max_length=MAX_CHECK),
    ]


class Manual(msgspec.Struct, forbid_unknown_fields=True):
    """Body of PUT /v1/suppressions/{address}."""

    reason: Text
    note: Text | None = None
    bounce_class: Annotated[str, allows('"hard" or "soft"', pattern=r"^(hard|soft)$")] = (
        msgspec.field(default="hard", name="class")
    )
    expires: Annotated[str, allows('a duration such as "14d" or "12h"', max_length=40)] | None = (
        None
    )


class Removal(msgspec.Struct, forbid_unknown_fields=True):
    """Query of DELETE /v1/suppressions/{address}."""

    reason: Text
    force: bool = False


def _address(request: web.Request) -> str:
    """Return the {address} path part; 400 naming `address` when it is not an address."""
    address = request.match_info["address"].strip()
    if not looks_like_address(address):
        raise ApiError(400, f"address: must be an email address (got {address!r})", "address")
    return address


@routes.get("/v1/suppressions/{address}")
@needs("read")
async def get_one(request: web.Request) -> web.Response:
    """200 with the address's active suppression and operators' changes; 404 when none."""
    address = _address(request)
    service = backend(request)
    now = service.clock()

    def look(db):  # noqa: ANN001, ANN202
        entry = suppressions.get(db, address, now)
        return entry, changes.history(db, entry["address"] if entry else address)

    entry, history = service.reader.now(look)
    if entry is None:
        raise ApiError(404, f"{address} is not suppressed", "address")
    return reply({**entry, "changes": history})


@routes.post("/v1/suppressions/check")
@needs("read")
async def check(request: web.Request) -> web.Response:
    """Split up to 10,000 addresses into the suppressed (with their entries) and the clear."""
    given = (await body(request, Check)).addresses
    service = backend(request)
    now = service.clock()
    found = await service.read(lambda db: suppressions.find_many(db, given, now))
    seen: set[str] = set()
    suppressed, clear = [], []
    for address in given:
        if address in seen:
            continue
        seen.add(address)
        if address in found:
            suppressed.append({"query": address, **found[address]})
        else:
            clear.append(address)
    return reply({"suppressed": suppressed, "clear": clear})


@routes.get("/v1/suppressions")
@needs("read")
async def listing(request: web.Request) -> web.Response:
    """A page of active suppressions, first suppressed newest first, and the next cursor."""
    asked = query(request, ListQuery)
    after = decode_cursor(asked.cursor, (str, str))
    since, until = iso(asked.since, "since"), iso(asked.until, "until")
    service = backend(request)
    now = service.clock()
    rows = await service.read(
        lambda db: suppressions.page(
            db,
            now,
            reason=asked.reason,
            bounce_class=asked.bounce_class,
            since=since,
            until=until,
            after=after,
            limit=asked.limit,
        )
    )
    more = len(rows) == asked.limit
    return reply(
        {
            "suppressions": [entry for _, entry in rows],
            "next_cursor": encode_cursor(rows[-1][0]) if more else None,
        }
    )


@routes.put("/v1/suppressions/{address}")
@needs("admin")
async def put(request: web.Request) -> web.Response:
    """Suppress an address by hand: 201 when it was not suppressed, 200 when updated."""
    address = _address(request)
    asked = await body(request, Manual)
    service = backend(request)
    now = service.clock()
    expires_at = now + _duration(asked.expires) if asked.expires else None
    by = f"api:{request[TOKEN].name}"

    def add(db):  # noqa: ANN001, ANN202
        added = editing.add_manual(
            db,
            address,
            asked.reason,
            asked.bounce_class,
            expires_at,
            now,
            by,
            asked.note,
            announce=False,  # the daemon's journal logs it
        )
        return added, suppressions.get(db, address, now)

    added, entry = await service.write(add)
    return reply(entry, 201 if added else 200)


@routes.delete("/v1/suppressions/{address}")
@needs("admin")
async def delete(request: web.Request) -> web.Response:
    """Lift a suppression (reason required; force=true for a complaint's); 404 when none."""
    address = _address(request)
    asked = query(request, Removal)
    service = backend(request)
    by = f"api:{request[TOKEN].name}"
    try:
        removed = await service.write(
            lambda db: editing.remove_manual(
                db, address, service.clock(), by, asked.reason, force=asked.force, announce=False
            )
        )
    except editing.ComplaintEntry as exc:
        raise ApiError(
            409,
            f"{exc.entry['address']} was suppressed by a complaint (the recipient asked for no"
            " mail); to remove it anyway, repeat with force=true",
            "force",
        ) from exc
    if removed is None:
        raise ApiError(404, f"{address} is not suppressed", "address")
    return reply({"removed": removed})


def _duration(text: str) -> timedelta:
    """Parse an `expires` duration; 400 naming `expires` when it is not one."""
    try:
        duration = parse_duration(text, "expires")
    except ConfigError as exc:
        raise ApiError(400, str(exc), "expires") from exc
    if duration <= timedelta(0):
        raise ApiError(400, f"expires: must be above 0 (got {text!r})", "expires")
    return duration
