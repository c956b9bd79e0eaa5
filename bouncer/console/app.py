"""The console's aiohttp sub-application: templates, routes, and the guard every page passes.

The guard (a middleware) gives each visitor a session (bouncer.console.session), sends one who
has not signed in to the sign-in page (only that page and its stylesheet answer without a
session), refuses a POST whose CSRF token is not the session's (403), renders errors as pages,
and sets the security headers on every answer: a Content-Security-Policy allowing nothing but
this site's stylesheet and images (no scripts, no inline styles, no framing, forms posted only
here), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (URLs carry addresses)
and `Cache-Control: no-store`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from importlib import resources
from typing import Any

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import web

from bouncer.config import Config
from bouncer.console.session import COOKIE, Session, Sessions
from bouncer.http.app import BACKEND, Backend
from bouncer.http.auth import Tokens

log = structlog.get_logger("bouncer.console")
PREFIX = "/console"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
SESSION = web.RequestKey("session", Session)
SESSIONS = web.AppKey("sessions", Sessions)
TOKENS = web.AppKey("tokens", Tokens)
SETTINGS = web.AppKey("settings", Config)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PageError(Exception):
    """A request the console refuses: the status and a sentence shown on the error page."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def public(handler: Handler) -> Handler:
    """Mark a handler as answering without sign-in (the sign-in page, the stylesheet)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler


def redirect(location: str) -> web.Response:
    """Return a 303 See Other to a console path (after a form post, or to sign in)."""
    return web.Response(status=303, headers={"Location": location})


def session_of(request: web.Request) -> Session:
    """Return the session the guard gave the request."""
    return request[SESSION]


def backend_of(request: web.Request) -> Backend:
    """Return the daemon's Backend (reads, writes, clock)."""
    return request.config_dict[BACKEND]


def settings_of(request: web.Request) -> Config:
    """Return the daemon's configuration."""
    return request.config_dict[SETTINGS]


def resource_text(name: str) -> str:
    """Return a file shipped in the package (templates/..., static/...) as text."""
    return resources.files("bouncer.console").joinpath(name).read_text(encoding="utf-8")


def attach(app: web.Application, config: Config, backend: Backend) -> web.Application:
    """Mount the console on the API's application under /console/; `/` redirects to it."""
    from bouncer.console import auth_views, log_views, overview, suppression_views

    console = web.Application(middlewares=[_guard])
    console[SESSIONS] = Sessions()
    console[TOKENS] = Tokens(config.http.tokens)
    console[SETTINGS] = config
    console[BACKEND] = backend
    aiohttp_jinja2.setup(
        console,
        loader=jinja2.PackageLoader("bouncer.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        filters={"when": when},
    )
    for module in (auth_views, log_views, suppression_views, overview):
        console.add_routes(module.routes)
    app.add_subapp(PREFIX, console)

    async def home(request: web.Request) -> web.Response:
        return redirect(f"{PREFIX}/")

    app.router.add_get("/", home)
    return console


def when(value: Any) -> str:
    """Show a stored time (ISO text or datetime) as "YYYY-MM-DD HH:MM:SS" UTC ("" for none)."""
    if value is None or value == "":
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.replace("T", " ")[:19]


def render(
    template: str, request: web.Request, context: dict[str, Any], status: int = 200
) -> web.Response:
    """Render a template with `context` and what every page sees (session, CSRF token,
    path prefix, the request's path)."""
    return aiohttp_jinja2.render_template(
        template, request, {**_context(request), **context}, status=status
    )


def _context(request: web.Request) -> dict[str, Any]:
    """What every template sees: the session, its CSRF token, the path prefix."""
    session = request.get(SESSION)
    sessions = request.config_dict[SESSIONS]
    return {
        "session": session,
        "csrf": sessions.csrf(session) if session else "",
        "prefix": PREFIX,
        "path": request.path,
    }


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Session, sign-in, CSRF, error pages and security headers for every console request."""
    sessions = request.config_dict[SESSIONS]
    now = request.config_dict[BACKEND].clock()
    session = sessions.decode(request.cookies.get(COOKIE), now)
    fresh = session is None
    if session is None:
        session = sessions.new(now)
    request[SESSION] = session
    try:
        response = await _checked(request, handler, session, sessions)
    except PageError as exc:
        response = await _error_page(request, exc.status, exc.detail)
    except web.HTTPException as exc:
        response = await _error_page(request, exc.status, _router_words(request, exc))
    except Exception:  # noqa: BLE001 - a page must never take the server down
        log.exception("console.failed", method=request.method, path=request.path)
        response = await _error_page(
            request, 500, "the page failed inside bouncer; its log has the details"
        )
    if response.prepared:  # streamed: its handler set the headers before sending them
        return response
    if fresh and COOKIE not in response.cookies:
        sessions.set_cookie(response, request, session)
    response.headers.update(HEADERS)
    return response


async def _checked(
    request: web.Request, handler: Handler, session: Session, sessions: Sessions
) -> web.StreamResponse:
    """Run the handler once the request passed sign-in and CSRF checks."""
    route_handler = request.match_info.handler
    if not getattr(route_handler, "public", False) and not session.signed_in:
        if request.method == "GET":
            return redirect(f"{PREFIX}/login")
        raise PageError(401, "sign in first: this session has no token")
    if request.method == "POST":
        form = await request.post()
        given = form.get("csrf")
        if not sessions.csrf_ok(session, given if isinstance(given, str) else None):
            raise PageError(
                403,
                "the form's security token is missing or out of date (forms are only accepted "
                "from the page this session loaded); reload the page and try again",
            )
    return await handler(request)


def _router_words(request: web.Request, exc: web.HTTPException) -> str:
    """Say in words what the router refused."""
    if exc.status == 404:
        return f"there is no page at {request.path}"
    if exc.status == 405:
        return f"{request.method} is not what {request.path} takes"
    return exc.text or HTTPStatus(exc.status).phrase


async def _error_page(request: web.Request, status: int, detail: str) -> web.Response:
    """Render the error page with a status and a sentence."""
    context = {"status": status, "title": HTTPStatus(status).phrase, "detail": detail}
    return render("error.html", request, context, status=status)
