"""Alerts end to end: a real daemon (fake clock, its own scheduler, a webhook POSTing to a real
HTTP receiver) takes bounces over SMTP. A burst over the spike threshold gives exactly one
`failures.spike`; a run of blocks from one provider exactly one `sender.blocked` naming it and
its text, and no recipient there is suppressed; both end through the sweep once the clock has
moved on, and every alert reaches the events table, the webhook and the log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bouncer.app import notify
from bouncer.clock import utcnow
from bouncer.config import AlertsConfig, TrackerConfig, WebhookConfig
from bouncer.store import events, open_db, suppressions
from tests.conftest import RunningDaemon, make_config, start_daemon
from tests.messages import postfix_dsn
from tests.tracker_helpers import FakeClock

ALERT_TYPES = ["failures.spike", "failures.spike_ended", "sender.blocked", "sender.blocked_ended"]
BLOCK = "550 5.7.1 Unfortunately, messages from [192.0.2.9] weren't sent. Please contact your \
Internet service provider since part of their network is on our block list (S3150)."
DENIED = "550 5.7.1 Recipient address rejected: Access denied"


class _Hook(BaseHTTPRequestHandler):
    """Records every POSTed body and answers 204."""

    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


class _Log:
    """Stands in for the events logger: records each line's event name and fields."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict]] = []

    def info(self, event: str, **fields: object) -> None:
        self.lines.append((event, fields))


def _alerts(running: RunningDaemon) -> list[dict]:
    db = open_db(running.db_path)
    try:
        return [e for e in events.search(db, limit=10_000) if e["type"] in ALERT_TYPES]
    finally:
        db.close()


def _wait(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen in time: {what}")
        time.sleep(0.02)


def _send(running: RunningDaemon, reports: list[bytes]) -> None:
    with running.client() as client:
        for raw in reports:
            client.sendmail("", ["bounces@localhost"], raw)


def test_one_spike_one_block_no_suppression_and_both_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _Log()
    monkeypatch.setattr(notify, "log", log)  # the journal logs each committed event through it
    _Hook.bodies = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    hook = WebhookConfig(
        f"http://127.0.0.1:{http.server_address[1]}/", "s" * 16, "k1", events=tuple(ALERT_TYPES)
    )
    config = replace(
        make_config(tmp_path),
        tracker=TrackerConfig(sweep_interval=timedelta(seconds=0.05)),
        alerts=AlertsConfig(threshold=20, domain_threshold=0, blocked_threshold=5),
        webhooks=(hook,),
    )
    clock = FakeClock(utcnow())
    unknown = [f"gone{i}@list{i % 4}.example" for i in range(30)]
    blocked = [f"user{i}@outlook.com" for i in range(8)]
    running = start_daemon(config, clock)
    try:
        _send(
            running,
            [postfix_dsn(a, "5.1.1", "550 5.1.1 User unknown", at=clock()) for a in unknown],
        )
        running.wait_processed(30)
        _send(running, [postfix_dsn(a, "5.7.1", BLOCK, at=clock()) for a in blocked])
        _send(running, [postfix_dsn("held@outlook.com", "5.7.1", DENIED, at=clock())])
        running.wait_processed(39)
        time.sleep(0.3)  # sweeps run meanwhile: nothing more may fire
        spike, block = _alerts(running)
        assert (spike["type"], spike["scope"], spike["count"]) == ("failures.spike", "all", 20)
        assert spike["reasons"] == [{"reason": "userunknown", "count": 20}]
        assert (block["type"], block["provider"], block["diagnostic"]) == (
            "sender.blocked",
            "microsoft",
            BLOCK,
        )
        db = open_db(running.db_path)
        active = {row["address"] for row in suppressions.list_active(db, clock())}
        db.close()
        assert active == set(unknown)  # nobody at outlook.com, not even held@
        clock.advance(hours=2)
        _wait(lambda: len(_alerts(running)) == 4, "both episodes ended")
        time.sleep(0.3)
        types = [e["type"] for e in _alerts(running)]
        assert types[:2] == ["failures.spike", "sender.blocked"]
        assert sorted(types[2:]) == ["failures.spike_ended", "sender.blocked_ended"]
        _wait(lambda: len(_Hook.bodies) == 4, "four webhook deliveries")
    finally:
        running.stop()
        http.shutdown()
    assert sorted(body["type"] for body in _Hook.bodies) == sorted(ALERT_TYPES)
    posted = next(body for body in _Hook.bodies if body["type"] == "sender.blocked")
    assert posted["data"]["provider"] == "microsoft" and posted["diagnostic"] == BLOCK
    logged = {event: fields for event, fields in log.lines if event in ALERT_TYPES}
    assert sorted(logged) == sorted(ALERT_TYPES)
    assert logged["sender.blocked"]["provider"] == "microsoft"
    assert (logged["failures.spike"]["scope"], logged["failures.spike"]["count"]) == ("all", 20)
