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
from tests import pg


@dataclass
class RunningDaemon:
    """A daemon started by a test: its port, database path (a postgresql:// URL for a
    PostgreSQL store), and a way to stop it."""

    port: int
    db_path: Path | str
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event
    thread: threading.Thread
    http_port: int | None = None
    store: str = ""  # the store's location as configured (a path or a URL)

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
        db = open_db(self.store or self.db_path)
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
        config.db_path if "://" in config.db_path else Path(config.db_path),
        holder["loop"],
        holder["stop"],
        thread,
        holder.get("http_port"),
        str(config.db_path),
    )


def make_config(tmp_path: Path, store: str | None = None, **smtp_changes: object) -> Config:
    """Return a config on free loopback ports (SMTP and the API) with its database under
    tmp_path (or at `store`: a path or URL, as the `store_url` fixture gives), and its spool
    (used with a PostgreSQL store) under tmp_path.

    One process (smtp.processes = 1) unless `processes` says otherwise: an injected clock
    reaches only the process it is given to.
    """
    changes = {"processes": 1, **smtp_changes}
    smtp = replace(SmtpConfig(), listen="127.0.0.1:0", shutdown_grace=2.0, **changes)
    http = HttpConfig(listen="127.0.0.1:0")
    return Config(
        db_path=store or str(tmp_path / "bouncer.db"),
        spool_path=str(tmp_path / "spool.db"),
        smtp=smtp,
        http=http,
    )


def assert_processed_once(
    location: str | Path, acknowledged: list[int], *, unanswered: int = 0
) -> None:
    """Every acknowledged message (each a DSN about a recipient of its own) stored, processed,
    recorded and acted on exactly once, in the store at `location` (either backend).

    `unanswered`: how many other messages the store may hold, stored without a 250 reaching
    the sender (a session cut after the commit: SIGKILL); they too are processed once."""
    db = open_db(location)
    try:
        run = db.conn.execute
        states = dict(run("SELECT id, state FROM messages").fetchall())
        records = dict(
            run("SELECT message_id, COUNT(*) FROM bounces GROUP BY message_id").fetchall()
        )
        hard = run("SELECT COUNT(*) FROM events WHERE type = 'bounce.hard'").fetchone()[0]
        counts = {count for (count,) in run("SELECT count FROM suppressions").fetchall()}
    finally:
        db.close()
    assert set(acknowledged) <= set(states)  # none lost
    assert len(acknowledged) == len(set(acknowledged))  # no id named twice
    assert len(states) == len(acknowledged) + unanswered  # none stored twice
    assert set(states.values()) == {"processed"}
    assert all(records.get(i) == 1 for i in states)
    assert hard == len(states)
    assert counts == {1}


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on PostgreSQL `postgresql` (`-m "not postgresql"` for a
    quick SQLite-only run): those using the cluster, and the PostgreSQL runs of tests made
    on each backend (`new_store`)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_each = callspec is not None and callspec.params.get("new_store") == "postgresql"
        if on_each or "pg_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.Cluster]:
    """A throwaway PostgreSQL server for the session (the tests using it skip without one)."""
    reason = pg.available()
    if reason:
        pytest.skip(reason)
    with pg.running() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_template(pg_cluster: pg.Cluster) -> str:
    """A migrated PostgreSQL database (caseless addresses) that each test's database copies."""
    name = pg_cluster.new_database()
    open_db(pg_cluster.url(name)).close()
    return name


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Make stores for one test on one backend (the test runs once per backend): call it for
    the location of a new store, migrated (`empty=False`, the default) or not yet created
    (`empty=True`: to create it with another address rule). SQLite: a file in tmp_path;
    PostgreSQL: a database on the session's cluster, dropped after the test."""
    made: list[str] = []
    cluster = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None

    def new(*, empty: bool = False) -> str:
        if cluster is None:
            path = tmp_path / f"store{len(made)}.db"
            made.append(str(path))
            if not empty:
                open_db(path).close()
            return str(path)
        template = None if empty else request.getfixturevalue("pg_template")
        made.append(cluster.new_database(template))
        return cluster.url(made[-1])

    yield new
    if cluster is not None:
        for name in made:
            cluster.drop(name)


@pytest.fixture
def store_url(new_store: Callable[..., str]) -> str:
    """The location of a new, migrated store on each backend in turn (see `new_store`)."""
    return new_store()


@pytest.fixture
def store(store_url: str) -> Iterator:
    """An open, migrated store on each backend in turn: a BouncerDatabase or a PgDatabase."""
    db = open_db(store_url)
    yield db
    db.close()
