"""Webhooks end to end: the running daemon POSTs signed events for a received bounce."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bouncer.config import WebhookConfig
from bouncer.daemon.webhook import verify
from tests.conftest import make_config, start_daemon
from tests.messages import postfix_dsn

SECRET = "s3cret"


class _Receiver(BaseHTTPRequestHandler):
    """Records every POST (headers and body) and answers 204."""

    received: list[tuple[dict, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


def test_hard_bounce_reaches_the_webhook_signed_once_per_event(
    tmp_path: Path, store_url: str
) -> None:
    _Receiver.received = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_address[1]}/hook"
    hooks = (WebhookConfig(url, SECRET, "k7"),)
    config = replace(make_config(tmp_path, store_url), webhooks=hooks)
    running = start_daemon(config)
    try:
        with running.client() as client:
            client.sendmail(
                "",
                ["bounces@localhost"],
                postfix_dsn(
                    "gone@example.com",
                    "5.1.1",
                    "550 5.1.1 <gone@example.com>: User unknown in "
                    "virtual mailbox table (in reply to RCPT TO command)",
                ),
            )
        deadline = time.monotonic() + 15
        while len(_Receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # a further outbox pass must not send anything again
    finally:
        running.stop()
        http.shutdown()
    bodies = [json.loads(body) for _, body in _Receiver.received]
    assert sorted(b["type"] for b in bodies) == ["bounce.hard", "suppression.added"]
    assert len({b["id"] for b in bodies}) == 2
    for headers, body in _Receiver.received:
        assert verify(headers, body, {"k7": SECRET.encode()}, datetime.now(UTC))
        assert headers["Bouncer-Event-Id"] == json.loads(body)["id"]
    hard = next(b for b in bodies if b["type"] == "bounce.hard")
    assert (hard["recipient"], hard["reason"], hard["class"]) == (
        "gone@example.com",
        "userunknown",
        "hard",
    )
    assert hard["original_message_id"] == "<orig-1@shop.example>"


def test_webhooks_command_reports_delivery_counts(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bouncer.cli.main import main
    from bouncer.clock import utcnow
    from bouncer.store import events, open_db
    from bouncer.store import outbox as store_outbox

    db = open_db(tmp_path / "w.db")
    hook = WebhookConfig("http://127.0.0.1:9/none", SECRET)
    store_outbox.register(db, [hook.url])
    with db.atomic():
        events.add(db, "bounce.hard", utcnow(), "a@example.com", {"reason": "userunknown"})
    assert store_outbox.enqueue_new(db, [hook], utcnow()) == 1
    db.close()
    result = CliRunner().invoke(main, ["webhooks", "--json", "--db", str(tmp_path / "w.db")])
    row = json.loads(result.stdout)
    assert (row["url"], row["pending"], row["delivered"]) == (hook.url, 1, 0)
