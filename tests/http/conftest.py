"""A real daemon with its HTTP API on free loopback ports, and a real HTTP client (urllib)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bouncer.config import HttpConfig, parse_token
from tests.conftest import RunningDaemon, make_config, start_daemon

READ = "read-secret-0123456789"
ADMIN = "admin-secret-0123456789"


@dataclass
class Answer:
    """One HTTP answer: status, headers, the body (parsed when JSON, else bytes)."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def field(self) -> str | None:
        """The field a problem-details answer names."""
        return self.body.get("field") if isinstance(self.body, dict) else None


@dataclass
class Api:
    """The daemon under test and a client for its API."""

    daemon: RunningDaemon

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = READ,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request (JSON body if given) with a bearer token; return the answer."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(
            self.daemon.http_base + path, data=data, method=method, headers=headers or {}
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return _answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return _answer(error.code, dict(error.headers), error.read())

    def get(self, path: str, **options: Any) -> Answer:
        return self.call("GET", path, **options)

    def send(self, *messages: bytes, to: str = "bounces@localhost") -> None:
        """Send bounces over SMTP to the return path `to` and wait until the daemon has
        processed them."""
        done = self.processed()
        with self.daemon.client() as client:
            for raw in messages:
                client.sendmail("", [to], raw)
        self.daemon.wait_processed(done + len(messages))

    def processed(self) -> int:
        """Count the messages the daemon has processed so far."""
        from bouncer.store import open_db

        db = open_db(self.daemon.store or self.daemon.db_path)
        try:
            return db.conn.execute("SELECT COUNT(*) FROM messages WHERE state != 'new'").fetchone()[
                0
            ]
        finally:
            db.close()


def _answer(status: int, headers: dict[str, str], payload: bytes) -> Answer:
    kind = headers.get("Content-Type", "")
    body: Any = json.loads(payload) if "json" in kind else payload
    return Answer(status, headers, body)


def api_config(tmp_path: Path, **http: Any) -> Any:
    """A daemon config with a read token "app" and an admin token "ops"."""
    tokens = (parse_token(f"app:read:{READ}"), parse_token(f"ops:admin:{ADMIN}"))
    config = make_config(tmp_path)
    return replace(config, http=replace(HttpConfig(listen="127.0.0.1:0", tokens=tokens), **http))


@pytest.fixture
def api(tmp_path: Path, store_url: str) -> Iterator[Api]:
    """A running daemon with tokens, and its API client, on each backend in turn."""
    running = start_daemon(replace(api_config(tmp_path), db_path=store_url))
    yield Api(running)
    running.stop()
