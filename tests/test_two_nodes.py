"""Two bounce MX hosts on one PostgreSQL store (issue 15): two daemons on two ports share one
suppression list, and the timers and webhook deliveries both of them run fire once."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bouncer.clock import utcnow
from bouncer.config import TrackerConfig, WebhookConfig
from bouncer.store import open_db, suppressions
from tests.conftest import RunningDaemon, make_config, start_daemon
from tests.messages import postfix_dsn
from tests.tracker_helpers import FakeClock

pytestmark = pytest.mark.postgresql


class _Hook(BaseHTTPRequestHandler):
    """Records every event POSTed (after a moment, as a real endpoint takes), answers 204."""

    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.05)  # while one node is still posting, the other looks for due work
        self.bodies.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


def _send(node: RunningDaemon, raw: bytes) -> None:
    with node.client() as client:
        client.sendmail("", ["bounces@localhost"], raw)


def _events(url: str, recipient: str) -> list[str]:
    db = open_db(url)
    try:
        rows = db.conn.execute(
            "SELECT type FROM events WHERE recipient = ? ORDER BY seq", (recipient,)
        ).fetchall()
    finally:
        db.close()
    return [row[0] for row in rows]


def _delivered(url: str) -> int:
    db = open_db(url)
    try:
        return db.conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'"
        ).fetchone()[0]
    finally:
        db.close()


def _until(check, seconds: float = 15.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_two_nodes_share_one_list_and_fire_each_timer_and_webhook_once(
    tmp_path: Path,
    pg_cluster,  # noqa: ANN001
    pg_template: str,
) -> None:
    _Hook.bodies = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    hook = WebhookConfig(f"http://127.0.0.1:{http.server_address[1]}/", "s", "k1")
    url = pg_cluster.url(pg_cluster.new_database(pg_template))
    tracker = TrackerConfig(sweep_interval=timedelta(seconds=0.05))
    clock = FakeClock(utcnow())  # both hosts read one clock: their timers come due together
    nodes = []
    for name in ("a", "b"):
        config = make_config(tmp_path / name, url)
        nodes.append(start_daemon(replace(config, tracker=tracker, webhooks=(hook,)), clock))
    a, b = nodes
    try:
        _send(a, postfix_dsn("gone@example.com", "5.1.1", "550 5.1.1 User unknown", at=clock()))
        _until(lambda: _events(url, "gone@example.com") == ["bounce.hard", "suppression.added"])
        db = open_db(url)  # what node B's API and CLI read: the same list
        assert suppressions.get(db, "gone@example.com", clock())["reason"] == "userunknown"
        db.close()

        full = "452 4.2.2 Mailbox full"
        _send(b, postfix_dsn("slow@example.com", "4.2.2", full, action="delayed", at=clock()))
        _until(lambda: _events(url, "slow@example.com") == ["delivery.deferred"])
        # Every delivery so far recorded before the clock jumps 4 h: a jump while an attempt
        # is in flight is a lease run out (the attempt is made again: at least once).
        _until(lambda: _delivered(url) == 3)
        clock.advance(hours=4, minutes=1)  # both schedulers find the 4 h warning due
        _until(lambda: "delivery.delayed" in _events(url, "slow@example.com"))
        time.sleep(0.5)  # more sweeps on both nodes: nothing fires again
        expected = ["delivery.deferred", "delivery.delayed"]
        assert _events(url, "slow@example.com") == expected

        _until(lambda: len(_Hook.bodies) >= 4)
        time.sleep(1.0)  # more outbox passes on both nodes: nothing is posted again
    finally:
        for node in nodes:
            node.stop()
        http.shutdown()
    posted = [(body["recipient"], body["type"]) for body in _Hook.bodies]
    assert sorted(posted) == sorted(
        [
            ("gone@example.com", "bounce.hard"),
            ("gone@example.com", "suppression.added"),
            ("slow@example.com", "delivery.deferred"),
            ("slow@example.com", "delivery.delayed"),
        ]
    )
