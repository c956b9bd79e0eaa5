"""PostgreSQL away while two nodes take bounces (issue 15): each node commits to its local
spool meanwhile and answers 250 throughout; once the server is back the spools are forwarded,
and every acknowledged message is processed exactly once in the shared store."""

from __future__ import annotations

import os
import re
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Event

import pytest

from bouncer.store import open_db, spool
from tests import pg
from tests.conftest import RunningDaemon, assert_processed_once, make_config, start_daemon
from tests.messages import postfix_dsn

pytestmark = pytest.mark.postgresql
STORED = re.compile(rb"stored as (\d+)")
SPOOLED = re.compile(rb"spooled as ([0-9a-f-]{36})")
SENDERS = 4
# Messages per phase; the load of 2,000 is BOUNCER_OUTAGE_PHASE=700 (minutes, not run
# in the suite).
PHASE = int(os.environ.get("BOUNCER_OUTAGE_PHASE", "20"))
WAIT = 60.0 * max(1, PHASE // 20)  # seconds a phase, or the processing after it, may take


def _sender(node: RunningDaemon, first: int, named: list, refused: list, stop: Event) -> None:
    """Send DSNs one by one as an MTA does, until stopped: a 4xx reply or a dropped connection
    is tried again a moment later; add what each 250 named to `named`: a store id, or a spool
    key."""
    n = first
    while not stop.is_set():
        raw = postfix_dsn(
            f"gone{n}@example.com", "5.1.1", "550 5.1.1 unknown", message_id=f"<o{n}@x>"
        )
        try:
            with smtplib.SMTP("127.0.0.1", node.port, timeout=20) as client:
                code, reply = client.data(raw) if _envelope(client) else (0, b"")
        except (smtplib.SMTPException, OSError) as exc:
            refused.append(type(exc).__name__)
            time.sleep(0.1)
            continue
        if code == 250:
            stored, spooled = STORED.search(reply), SPOOLED.search(reply)
            named.append(int(stored.group(1)) if stored else spooled.group(1).decode())
            n += 1
        else:
            refused.append(str(code))
            time.sleep(0.1)


def _until(check, seconds: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)


def _envelope(client: smtplib.SMTP) -> bool:
    client.ehlo()
    client.mail("<>")
    return client.rcpt("bounces@localhost")[0] == 250


def _ids_of(url: str, named: list[int | str]) -> list[int]:
    """The store ids of the acknowledged messages: a spooled one's by its key (each key must
    name one message)."""
    keys = [key for key in named if isinstance(key, str)]
    db = open_db(url)
    try:
        rows = db.conn.execute(
            "SELECT spool_key, id FROM messages WHERE spool_key = ANY(?)", (keys,)
        ).fetchall()
    finally:
        db.close()
    assert sorted(key for key, _ in rows) == sorted(keys)  # each forwarded, once
    return [n for n in named if isinstance(n, int)] + [n for _, n in rows]


def _spooled(path: Path) -> int:
    db = open_db(path)
    try:
        return spool.waiting(db)
    finally:
        db.close()


def test_an_outage_is_spooled_with_250s_and_forwarded_once(tmp_path: Path) -> None:
    """The load runs in three phases: stored (PHASE 250s), PostgreSQL away (until PHASE
    messages were spooled), back (until PHASE more were stored)."""
    reason = pg.available()
    if reason:
        pytest.skip(reason)
    with pg.running() as cluster:  # a cluster of its own: this test stops it
        url = cluster.url(cluster.new_database())
        nodes = [start_daemon(make_config(tmp_path / name, url)) for name in ("a", "b")]
        named: list[int | str] = []
        refused: list[str] = []
        stop = Event()
        try:
            with ThreadPoolExecutor(SENDERS) as senders:
                for k in range(SENDERS):
                    senders.submit(_sender, nodes[k % 2], k * 100_000, named, refused, stop)
                try:
                    _until(lambda: len(named) >= PHASE, WAIT)
                    cluster.pause()  # PostgreSQL goes away mid-load ...
                    _until(lambda: sum(isinstance(n, str) for n in named) >= PHASE, WAIT)
                    cluster.resume()  # ... and comes back
                    back = len(named)
                    _until(lambda: sum(isinstance(n, int) for n in named[back:]) >= PHASE, WAIT)
                finally:
                    stop.set()
            for node in nodes:
                node.wait_processed(len(named), timeout=WAIT)
        finally:
            for node in nodes:
                node.stop()
        acknowledged = _ids_of(url, named)
        assert_processed_once(url, acknowledged)
    assert refused == []  # 250 throughout: no 451, no dropped connection
    assert [_spooled(tmp_path / name / "spool.db") for name in ("a", "b")] == [0, 0]


def test_a_paused_cluster_comes_back_with_its_data() -> None:
    reason = pg.available()
    if reason:
        pytest.skip(reason)
    with pg.running() as cluster:
        url = cluster.url(cluster.new_database())
        open_db(url).close()
        cluster.pause()
        with pytest.raises(Exception):  # noqa: B017, PT011 - any error: nothing is listening
            open_db(url)
        cluster.resume()
        db = open_db(url)
        assert db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
        db.close()
