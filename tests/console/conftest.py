"""A real daemon with its console, and a browser-less client that keeps cookies and reads
forms (urllib + http.cookiejar + the standard library's HTML parser)."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import start_daemon
from tests.http.conftest import Api, api_config


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


class _Hidden(HTMLParser):
    """Collects the value of every hidden input named csrf."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf":
            self.csrf.append(values.get("value") or "")


@dataclass
class Page:
    """One answer: status, headers, text."""

    status: int
    headers: dict[str, str]
    text: str

    @property
    def csrf(self) -> str:
        parser = _Hidden()
        parser.feed(self.text)
        return parser.csrf[0]


@dataclass
class Browser:
    """A cookie-keeping client of the console (redirects are not followed: tests see them)."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def _open(self, request: urllib.request.Request) -> Page:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        try:
            with opener.open(request, timeout=30) as response:
                body = response.read()
                return Page(
                    response.status, dict(response.headers), body.decode("utf-8", "replace")
                )
        except urllib.error.HTTPError as error:
            return Page(error.code, dict(error.headers), error.read().decode("utf-8", "replace"))

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str]) -> Page:
        data = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.base + path, data=data, method="POST"))

    def sign_in(self, token: str) -> Page:
        form = self.get("/console/login")
        return self.post("/console/login", {"csrf": form.csrf, "token": token})


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A running daemon with a read token (READ) and an admin token (ADMIN)."""
    running = start_daemon(api_config(tmp_path))
    yield Api(running)
    running.stop()
