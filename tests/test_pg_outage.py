"""PostgreSQL away while two nodes take bounces (issue 15): no 250 without a stored message, the
senders' retries get in once it is back, and every acknowledged message is processed once."""

from __future__ import annotations

import re
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bouncer.store import open_db
from tests import pg
from tests.conftest import RunningDaemon, assert_processed_once, make_config, start_daemon
from tests.messages import postfix_dsn

pytestmark = pytest.mark.postgresql
STORED = re.compile(rb"stored as (\d+)")
MESSAGES_PER_SENDER = 40


def _sender(node: RunningDaemon, first: int, refused: list[str]) -> list[int]:
    """Send DSNs one by one as an MTA does: a 4xx reply or a dropped connection is tried again
    a moment later; return the ids the 250s named."""
    ids: list[int] = []
    n = first
    while n < first + MESSAGES_PER_SENDER:
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
            ids.append(int(STORED.search(reply).group(1)))
            n += 1
        else:
            refused.append(str(code))
            time.sleep(0.1)
    return ids


def _envelope(client: smtplib.SMTP) -> bool:
    client.ehlo()
    client.mail("<>")
    return client.rcpt("bounces@localhost")[0] == 250


def test_an_outage_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    reason = pg.available()
    if reason:
        pytest.skip(reason)
    with pg.running() as cluster:  # a cluster of its own: this test stops it
        url = cluster.url(cluster.new_database())
        nodes = [start_daemon(make_config(tmp_path / name, url)) for name in ("a", "b")]
        refused: list[str] = []
        try:
            with ThreadPoolExecutor(4) as senders:
                shares = [
                    senders.submit(_sender, nodes[k % 2], k * MESSAGES_PER_SENDER, refused)
                    for k in range(4)
                ]
                time.sleep(0.5)
                cluster.pause()  # PostgreSQL goes away mid-load ...
                time.sleep(2.0)
                cluster.resume()  # ... and comes back
                acknowledged = [i for share in shares for i in share.result(timeout=120)]
            for node in nodes:
                node.wait_processed(len(acknowledged), timeout=60)
        finally:
            for node in nodes:
                node.stop()
        assert_processed_once(url, acknowledged)
    assert len(acknowledged) == 4 * MESSAGES_PER_SENDER
    assert refused, "the outage was not seen by any sender"


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
