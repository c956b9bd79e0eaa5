"""The Log page (bounce records, filtered, newest first) and the Message page (one report).

The filters live in the URL (GET form), so a filtered view is a link an operator can send;
paging follows the API's cursor (received_at, id), so reports arriving meanwhile neither
repeat nor push rows across pages. A recipient is an address or a domain (`@example.com` or
`example.com`); "original" is the original's Message-ID when it looks like one, else words of
its Subject; since/until take `7d` or an ISO 8601 time as the CLI does.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from bouncer.clock import to_iso
from bouncer.console.app import PREFIX, PageError, backend_of, render, session_of
from bouncer.console.message import load_message
from bouncer.core.timespec import parse_moment
from bouncer.http.errors import ApiError
from bouncer.http.params import decode_cursor, encode_cursor
from bouncer.store import records

routes = web.RouteTableDef()
PAGE = 50
FIELDS = ("recipient", "sender", "original", "kind", "class", "reason", "since", "until")
KINDS = ("bounce", "delay", "complaint", "autoreply", "delivered", "unknown")
CLASSES = ("hard", "soft", "none")
REASON_WORDS = 40


def _filters(request: web.Request, now: datetime) -> tuple[dict[str, str], dict]:
    """Return the form's values (as given, empty ones left out) and records.page's filters;
    PageError 400 naming the field that does not fit."""
    given = {name: request.query.get(name, "").strip() for name in FIELDS}
    given = {name: value for name, value in given.items() if value}
    for name, value in given.items():
        if len(value) > 320:
            raise PageError(400, f"{name}: at most 320 characters")
    choice = {"kind": KINDS, "class": CLASSES}
    for name, allowed in choice.items():
        if name in given and given[name] not in allowed:
            raise PageError(400, f"{name}: one of {', '.join(allowed)} (got {given[name]!r})")
    reason = given.get("reason")
    if reason and not (reason.isalpha() and reason.islower() and len(reason) <= REASON_WORDS):
        raise PageError(400, f"reason: a reason name such as userunknown (got {reason!r})")
    recipient = given.get("recipient")
    if recipient and "@" not in recipient:
        recipient = "@" + recipient  # a bare domain
    original = given.get("original")
    is_id = bool(original) and "@" in original and " " not in original
    return given, {
        "recipient": recipient,
        "sender": given.get("sender"),
        "orig_message_id": original if is_id else None,
        "subject": None if is_id else original,
        "kind": given.get("kind"),
        "bounce_class": given.get("class"),
        "reason": reason,
        "since": _moment(given, "since", now),
        "until": _moment(given, "until", now),
    }


def _moment(given: dict[str, str], name: str, now: datetime) -> str | None:
    """Return a since/until value as a stored time; PageError 400 naming it."""
    if name not in given:
        return None
    try:
        return to_iso(parse_moment(given[name], now))
    except ValueError as exc:
        raise PageError(400, f"{name}: {exc}") from None


def outcome(row: dict) -> tuple[str, str]:
    """Return what happened to the recipient, in a word, and its CSS class: failed
    (a hard or soft bounce), delayed, complaint, auto-reply, delivered or unknown."""
    if row["kind"] == "bounce" and row["class"] in ("hard", "soft"):
        return ("failed", "failed")
    return {
        "delay": ("delayed", "delayed"),
        "complaint": ("complaint", "failed"),
        "autoreply": ("auto-reply", "quiet"),
        "delivered": ("delivered", "ok"),
    }.get(row["kind"], (row["kind"] or "unknown", "quiet"))


@routes.get("/")
async def log_page(request: web.Request) -> web.Response:
    """The bounce log: filters, one page of records, links to older pages."""
    service = backend_of(request)
    now = service.clock()
    problem, given, rows, after = None, {}, [], None
    try:
        given, filters = _filters(request, now)
        after = decode_cursor(request.query.get("cursor") or None, (str, int))
        rows = await service.read(lambda db: records.page(db, after=after, limit=PAGE, **filters))
    except PageError as exc:
        problem = exc.detail
    except ApiError as exc:
        problem = exc.detail
    older = None
    if len(rows) == PAGE:
        older = "?" + urlencode({**given, "cursor": encode_cursor(rows[-1][0])})
    context = {
        "given": given,
        "rows": [{**row, "outcome": outcome(row)} for _, row in rows],
        "problem": problem,
        "older": older,
        "newest": ("?" + urlencode(given)) if after else None,
        "kinds": KINDS,
        "classes": CLASSES,
    }
    return render("log.html", request, context, status=400 if problem else 200)


def _number(request: web.Request) -> int:
    """Return the {id} path part; PageError 404 unless it is a stored message's number."""
    text = request.match_info["id"]
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise PageError(404, f"there is no stored message {text!r}")
    return int(text)


@routes.get("/messages/{id}")
async def message_page(request: web.Request) -> web.Response:
    """One report: per recipient the conclusion and why, the original, the timeline."""
    service = backend_of(request)
    number = _number(request)
    admin = session_of(request).admin
    shown = await service.read(
        lambda db: load_message(db, number, service.clock(), service.class_overrides, admin)
    )
    if shown is None:
        raise PageError(404, f"there is no stored message {number}")
    context = {**shown, "focus": request.query.get("recipient", "").lower()}
    return render("message.html", request, context)


@routes.get("/messages/{id}/raw")
async def raw_report(request: web.Request) -> web.Response:
    """The stored message as received, for admins: a text/plain download (never rendered)."""
    if not session_of(request).admin:
        raise PageError(403, "raw reports are for admin tokens")
    number = _number(request)
    from bouncer.store import inbox

    raw = await backend_of(request).read(lambda db: inbox.raw_of(db, number))
    if not raw:
        raise PageError(404, f"message {number} has no raw copy (none stored, or pruned)")
    return web.Response(
        body=raw,
        content_type="text/plain",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="bouncer-message-{number}.eml"'},
    )


def log_link(**filters: str) -> str:
    """Return the Log page's URL with these filters."""
    return f"{PREFIX}/?{urlencode(filters)}"
