"""The Suppressions page: search, list, add and remove by hand, export as CSV.

Changes go through bouncer.app.editing on the daemon's processor thread, as the API's and the
CLI's do, recorded as made by `console:<token name>` with the reason typed. Adding and removing
need an admin token. An entry a complaint set (the recipient asked for no mail) is removed only
when the operator ticks the confirmation.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bouncer.app import editing
from bouncer.config import ConfigError, parse_duration
from bouncer.console.app import HEADERS, PREFIX, PageError, backend_of, redirect, render, session_of
from bouncer.core.suppression_file import csv_lines
from bouncer.http.errors import ApiError
from bouncer.http.params import decode_cursor, encode_cursor
from bouncer.store import changes, suppression_bulk, suppressions

routes = web.RouteTableDef()
PAGE = 50
DONE = {
    "added": "Suppressed.",
    "removed": "Removed from the list.",
    "absent": "That address was not suppressed.",
}


def _address(text: str | None, name: str = "address") -> str:
    """Return an email address from a form; PageError 400 when it is not one."""
    address = (text or "").strip()
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or len(address) > 320 or any(c.isspace() for c in address):
        raise PageError(400, f"{name}: an email address such as ann@example.com (got {address!r})")
    return address


def _text(form, name: str, required: bool = True) -> str | None:  # noqa: ANN001
    """Return a form's text field (1 to 1000 characters); PageError 400 when missing."""
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        if required:
            raise PageError(400, f"{name}: say why (it is recorded with the change)")
        return None
    if len(value) > 1000:
        raise PageError(400, f"{name}: at most 1000 characters")
    return value


@routes.get("/suppressions")
async def listing(request: web.Request) -> web.Response:
    """One address's entry and history (q=address), or a page of the list, newest first."""
    service = backend_of(request)
    now = service.clock()
    wanted = request.query.get("q", "").strip()
    problem, found, history, rows, older = None, None, [], [], None
    try:
        if wanted:
            address = _address(wanted, "q")

            def look(db):  # noqa: ANN001, ANN202
                entry = suppressions.get(db, address, now)
                return entry, changes.history(db, entry["address"] if entry else address)

            found, history = await service.read(look)
        else:
            after = decode_cursor(request.query.get("cursor") or None, (str, str))
            page = await service.read(
                lambda db: suppressions.page(db, now, after=after, limit=PAGE)
            )
            rows = [entry for _, entry in page]
            if len(page) == PAGE:
                older = "?" + urlencode({"cursor": encode_cursor(page[-1][0])})
    except (PageError, ApiError) as exc:
        problem = exc.detail
    context = {
        "q": wanted,
        "found": found,
        "history": history,
        "rows": rows,
        "older": older,
        "problem": problem,
        "done": DONE.get(request.query.get("done", "")),
    }
    return render("suppressions.html", request, context, status=400 if problem else 200)


def _admin(request: web.Request) -> str:
    """Return who makes the change (console:<token name>); PageError 403 for a read token."""
    session = session_of(request)
    if not session.admin:
        raise PageError(
            403, f"the token {session.name!r} may read only; changes need an admin token"
        )
    return f"console:{session.name}"


@routes.post("/suppressions/add")
async def add(request: web.Request) -> web.Response:
    """Suppress an address by hand (reason required; class hard or soft; optional expiry)."""
    by = _admin(request)
    form = await request.post()
    address = _address(form.get("address"))
    reason = _text(form, "reason")
    bounce_class = form.get("class", "hard")
    if bounce_class not in ("hard", "soft"):
        raise PageError(400, "class: hard or soft")
    service = backend_of(request)
    now = service.clock()
    expires = _text(form, "expires", required=False)
    expires_at = now + _duration(expires) if expires else None
    await service.write(
        lambda db: editing.add_manual(
            db, address, reason, bounce_class, expires_at, now, by, announce=False
        )
    )
    return redirect(f"{PREFIX}/suppressions?{urlencode({'q': address, 'done': 'added'})}")


def _duration(text: str):  # noqa: ANN202
    try:
        duration = parse_duration(text, "expires")
    except ConfigError as exc:
        raise PageError(400, str(exc)) from exc
    if duration.total_seconds() <= 0:
        raise PageError(400, f"expires: must be above 0 (got {text!r})")
    return duration


@routes.post("/suppressions/remove")
async def remove(request: web.Request) -> web.Response:
    """Lift a suppression, saying why; a complaint's needs the confirmation ticked."""
    by = _admin(request)
    form = await request.post()
    address = _address(form.get("address"))
    reason = _text(form, "reason")
    confirmed = form.get("confirm") == "yes"
    service = backend_of(request)
    try:
        removed = await service.write(
            lambda db: editing.remove_manual(
                db, address, service.clock(), by, reason, force=confirmed, announce=False
            )
        )
    except editing.ComplaintEntry as exc:
        raise PageError(
            409,
            f"{exc.entry['address']} was suppressed by a complaint: the recipient asked for no "
            "mail. Tick the confirmation to remove it anyway.",
        ) from exc
    done = "removed" if removed else "absent"
    return redirect(f"{PREFIX}/suppressions?{urlencode({'q': address, 'done': done})}")


@routes.get("/suppressions.csv")
async def export(request: web.Request) -> web.StreamResponse:
    """The active list in address order as CSV (the columns of `bouncer suppression export`)."""
    service = backend_of(request)
    now = service.clock()
    lines = await service.read(lambda db: list(csv_lines(suppression_bulk.active(db, now))))
    response = web.StreamResponse(
        headers={
            **HEADERS,
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="suppressions.csv"',
        }
    )
    await response.prepare(request)
    chunk = 2000
    for start in range(0, len(lines), chunk):
        await response.write("".join(lines[start : start + chunk]).encode())
    await response.write_eof()
    return response
