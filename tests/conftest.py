"""Fixtures: a real bouncer daemon on a free loopback port, backed by a real SQLite file."""

from __future__ import annotations

import asyncio
import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest

from bouncer.config import Config, HttpConfig, SmtpConfig
from bouncer.daemon.service import serve
from bouncer.store import open_db


@dataclass
class RunningDaemon:
    """A daemon started by a test: its port, database path, and a way to stop it."""

    port: int
    db_path: Path
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event
    thread: threading.Thread
    http_port: int | None = None

    @property
    def http_base(self) -> str:
        """Return the API's base URL, http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.http_port}"

    def client(self) -> smtplib.SMTP:
        """Return a connected SMTP client."""
        return smtplib.SMTP("127.0.0.1", self.port, timeout=10)

    def stop(self) -> None:
        """Stop the daemon and wait for it to finish."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(timeout=30)

    def wait_processed(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least count messages have left the 'new' state."""
        deadline = time.monotonic() + timeout
        db = open_db(self.db_path)
        try:
            while time.monotonic() < deadline:
                done = db.conn.execute(
                    "SELECT COUNT(*) FROM messages WHERE state != 'new'"
                ).fetchone()[0]
                if done >= count:
                    return
                time.sleep(0.02)
        finally:
            db.close()
        raise AssertionError(f"fewer than {count} messages processed in {timeout}s")


def start_daemon(config: Config, clock: Callable[[], datetime] | None = None) -> RunningDaemon:
    """Run serve() on its own loop in a thread; return once it listens.

    `clock` (default: the real one) is the daemon's only source of time.
    """
    ready = threading.Event()
    holder: dict = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        holder["loop"] = loop
        holder["stop"] = asyncio.Event()

        def on_ready(port: int) -> None:
            holder["port"] = port
            ready.set()

        def on_http(port: int) -> None:
            holder["http_port"] = port

        try:
            options: dict = {"http_ready": on_http}
            if clock is not None:
                options["clock"] = clock
            loop.run_until_complete(serve(config, ready=on_ready, stop=holder["stop"], **options))
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test below
            holder["error"] = exc
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(15) or "error" in holder:
        raise RuntimeError(f"daemon did not start: {holder.get('error')}")
    return RunningDaemon(
        holder["port"],
        Path(config.db_path),
        holder["loop"],
        holder["stop"],
        thread,
        holder.get("http_port"),
    )


def make_config(tmp_path: Path, **smtp_changes: object) -> Config:
    """Return a config on free loopback ports (SMTP and the API) with its database under
    tmp_path.

    One process (smtp.processes = 1) unless `processes` says otherwise: an injected clock
    reaches only the process it is given to.
    """
    changes = {"processes": 1, **smtp_changes}
    smtp = replace(SmtpConfig(), listen="127.0.0.1:0", shutdown_grace=2.0, **changes)
    http = HttpConfig(listen="127.0.0.1:0")
    return Config(db_path=str(tmp_path / "bouncer.db"), smtp=smtp, http=http)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[RunningDaemon]:
    """A running daemon accepting bounces for localhost and bounces.example."""
    running = start_daemon(make_config(tmp_path, domains=("localhost", "bounces.example")))
    yield running
    running.stop()


def deliver(
    config: Config, *messages: bytes, clock: Callable[[], datetime] | None = None
) -> RunningDaemon:
    """Start a daemon, send each message as a bounce, wait until processed, stop it."""
    running = start_daemon(config, clock)
    try:
        with running.client() as client:
            for raw in messages:
                client.sendmail("", ["bounces@localhost"], raw)
        running.wait_processed(len(messages))
    finally:
        running.stop()
    return running
