"""Signing in and out, and the stylesheet.

Sign-in takes one API token (a configured `[[http.tokens]]` secret, checked as the API checks
a bearer token): its scope decides what the console allows (read: every page; admin: also
adding and removing suppressions, and raw reports). A new session id is issued on sign-in (an
id a visitor had before is never promoted) and the visitor lands on the log.
"""

from __future__ import annotations

from aiohttp import web

from bouncer.console.app import (
    PREFIX,
    SESSIONS,
    TOKENS,
    backend_of,
    public,
    redirect,
    render,
    resource_text,
    session_of,
)

routes = web.RouteTableDef()
_STYLE: dict[str, str] = {}


@routes.get("/login")
@public
async def login_page(request: web.Request) -> web.Response:
    """The sign-in page: one token field."""
    if session_of(request).signed_in:
        return redirect(f"{PREFIX}/")
    return _login(request, None, 200)


def _login(request: web.Request, problem: str | None, status: int) -> web.Response:
    tokens = request.config_dict[TOKENS]
    context = {"problem": problem, "no_tokens": not len(tokens)}
    return render("login.html", request, context, status=status)


@routes.post("/login")
@public
async def login(request: web.Request) -> web.Response:
    """Check the token; on success a new signed-in session and the log; else the form again."""
    form = await request.post()
    secret = form.get("token")
    secret = secret.strip() if isinstance(secret, str) else ""
    token = request.config_dict[TOKENS].find(secret) if secret else None
    if token is None:
        problem = "that token is not one bouncer knows" if secret else "enter a token"
        return _login(request, problem, 401)
    sessions = request.config_dict[SESSIONS]
    session = sessions.new(backend_of(request).clock(), token.name, token.scope)
    response = redirect(f"{PREFIX}/")
    sessions.set_cookie(response, request, session)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    """End the session: a new anonymous one, and the sign-in page."""
    sessions = request.config_dict[SESSIONS]
    response = redirect(f"{PREFIX}/login")
    sessions.set_cookie(response, request, sessions.new(backend_of(request).clock()))
    return response


@routes.get("/console.css")
@public
async def stylesheet(request: web.Request) -> web.Response:
    """The one stylesheet (shipped in the package)."""
    if "css" not in _STYLE:
        _STYLE["css"] = resource_text("static/console.css")
    return web.Response(text=_STYLE["css"], content_type="text/css")
