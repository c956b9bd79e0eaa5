"""Console sessions: a signed cookie holding who signed in, and the CSRF token of each form.

The cookie holds a random session id, the token's name and scope (never its secret) and when
it expires, signed with HMAC-SHA256 under a key drawn at random when the daemon starts (so a
restart signs everyone out, and nothing secret is kept on disk). Every visitor gets one, signed
in or not: the sign-in form is protected against cross-site posts like every other form. The
CSRF token of a session is HMAC(key, "csrf:" + session id), compared in constant time
(OWASP's "synchronizer token" pattern, derived rather than stored). The cookie is `HttpOnly`,
`SameSite=Strict`, and `Secure` when the request came over TLS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

COOKIE = "bouncer_console"
LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    """One visitor: `sid` (random), the token `name` and `scope` once signed in, `expires`
    (seconds since the epoch)."""

    sid: str
    name: str | None
    scope: str | None
    expires: int

    @property
    def signed_in(self) -> bool:
        """Tell whether a token was given in this session."""
        return self.name is not None

    @property
    def admin(self) -> bool:
        """Tell whether the session's token may change things."""
        return self.scope == "admin"


class Sessions:
    """Issue, read and check sessions under one random key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def new(self, now: datetime, name: str | None = None, scope: str | None = None) -> Session:
        """Return a new session (a fresh id: signing in never keeps the anonymous one)."""
        expires = int((now + LIFETIME).timestamp())
        return Session(secrets.token_urlsafe(18), name, scope, expires)

    def encode(self, session: Session) -> str:
        """Return the cookie value of a session: payload.signature, both base64url."""
        payload = json.dumps(
            [session.sid, session.name, session.scope, session.expires], separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, value: str | None, now: datetime) -> Session | None:
        """Return the session a cookie holds; None when absent, forged, malformed or expired."""
        if not value or "." not in value:
            return None
        payload_text, _, signature = value.partition(".")
        try:
            payload = _unb64(payload_text)
            if not hmac.compare_digest(_unb64(signature), self._sign(payload)):
                return None
            sid, name, scope, expires = json.loads(payload)
        except (ValueError, TypeError):
            return None
        if not isinstance(expires, int) or expires <= now.timestamp():
            return None
        return Session(str(sid), name, scope, expires)

    def csrf(self, session: Session) -> str:
        """Return the CSRF token of a session (the same for all its forms)."""
        return _b64(self._sign(b"csrf:" + session.sid.encode()))

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        """Tell whether a form's CSRF token is the session's (constant-time compare)."""
        return given is not None and hmac.compare_digest(
            given.encode(), self.csrf(session).encode()
        )

    def set_cookie(self, response: web.StreamResponse, request: web.Request, session: Session):
        """Put the session's cookie on a response (HttpOnly, SameSite=Strict, Secure on TLS)."""
        response.set_cookie(
            COOKIE,
            self.encode(session),
            max_age=int(LIFETIME.total_seconds()),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
