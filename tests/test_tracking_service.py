"""Deferral tracking end to end: a real daemon (its own scheduler driven by a fake clock, its
webhook POSTing to a real HTTP receiver) and `bouncer sweep --now` against its database.

The events contract: delay notice → `delivery.deferred` at once; +4 h → `delivery.delayed`;
+4 d → `delivery.given_up` with `evidence: timer` and no suppression; the MTA's failed 4.x.x
report → `bounce.soft` and `delivery.given_up` with `evidence: mta`; soft failures on five days
→ one `suppression.added`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner

from bouncer.cli.main import main
from bouncer.clock import from_iso, to_iso, utcnow
from bouncer.config import TrackerConfig, WebhookConfig
from bouncer.store import events, open_db
from tests.conftest import RunningDaemon, deliver, make_config, start_daemon
from tests.messages import postfix_dsn
from tests.tracker_helpers import FakeClock

FULL = "452 4.2.2 Mailbox full"


def _cli(db_path: Path | str, *args: str) -> tuple[int, str]:
    """Run a bouncer command against the database; return exit code and stdout."""
    result = CliRunner().invoke(main, [*args, "--db", str(db_path)])
    return result.exit_code, result.stdout


def _sweep(db_path: Path | str, at: str) -> list[str]:
    """Sweep at the given time; return the fired event types."""
    code, output = _cli(db_path, "sweep", "--now", at, "--json")
    assert code == 0, output
    return [json.loads(line)["type"] for line in output.splitlines() if line.strip()]


def _events(db_path: Path | str, recipient: str) -> list[dict]:
    """Return the events about a recipient, in commit order."""
    db = open_db(db_path)
    try:
        return events.search(db, recipient=recipient)
    finally:
        db.close()


def _wait_for(db_path: Path | str, recipient: str, count: int, kind: str = "") -> list[dict]:
    """Wait until `count` events about the recipient (of type `kind`, if given) are stored;
    return all the recipient's events."""
    deadline = time.monotonic() + 10
    while True:
        found = _events(db_path, recipient)
        if len([e for e in found if e["type"] == kind or not kind]) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} {kind} events about {recipient} not seen: {found}")
        time.sleep(0.02)


class _Hook(BaseHTTPRequestHandler):
    """Records every POSTed body and answers 204."""

    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


def _send(running: RunningDaemon, raw: bytes) -> None:
    with running.client() as client:
        client.sendmail("", ["bounces@localhost"], raw)


def test_events_contract_with_the_daemons_own_clock(tmp_path: Path, store_url: str) -> None:
    _Hook.bodies = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    hook = WebhookConfig(f"http://127.0.0.1:{http.server_address[1]}/", "s", "k1")
    tracker = TrackerConfig(sweep_interval=timedelta(seconds=0.05))
    config = replace(make_config(tmp_path, store_url), tracker=tracker, webhooks=(hook,))
    clock = FakeClock(utcnow())
    running = start_daemon(config, clock)
    try:
        _send(running, postfix_dsn("slow@example.com", "4.2.2", FULL, action="delayed", at=clock()))
        assert [e["type"] for e in _wait_for(running.db_path, "slow@example.com", 1)] == [
            "delivery.deferred"
        ]
        clock.advance(hours=4, minutes=1)
        assert _wait_for(running.db_path, "slow@example.com", 2)[-1]["type"] == "delivery.delayed"
        clock.advance(days=4)
        given_up = _wait_for(running.db_path, "slow@example.com", 3)[-1]
        assert (given_up["type"], given_up["evidence"]) == ("delivery.given_up", "timer")
        assert _cli(running.db_path, "suppression", "show", "slow@example.com")[0] == 1

        _send(running, postfix_dsn("ended@example.com", "4.4.1", "connect timeout", at=clock()))
        ended = _wait_for(running.db_path, "ended@example.com", 1, "delivery.given_up")
        assert [(e["type"], e.get("evidence")) for e in ended] == [
            ("bounce.soft", None),
            ("delivery.given_up", "mta"),
        ]

        for day in range(5):
            full = "552 5.2.2 Mailbox full"
            raw = postfix_dsn(
                "full@example.com", "5.2.2", full, at=clock(), message_id=f"<{day}@a>"
            )
            _send(running, raw)
            _wait_for(running.db_path, "full@example.com", day + 1, "bounce.soft")
            clock.advance(days=1)
        types = [e["type"] for e in _events(running.db_path, "full@example.com")]
        assert types == ["bounce.soft"] * 5 + ["suppression.added"]
        expected = {
            ("slow@example.com", "delivery.deferred"),
            ("slow@example.com", "delivery.given_up"),
            ("ended@example.com", "delivery.given_up"),
            ("full@example.com", "suppression.added"),
        }
        deadline = time.monotonic() + 10
        while not expected <= _heard() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        running.stop()
        http.shutdown()
    assert expected <= _heard()


def _heard() -> set[tuple[str, str]]:
    """Return the (recipient, type) pairs the webhook has received."""
    return {(body["recipient"], body["type"]) for body in list(_Hook.bodies)}


def test_sweep_now_fires_each_timer_once_across_a_restart(tmp_path: Path, store_url: str) -> None:
    config = make_config(tmp_path, store_url)
    running = deliver(
        config,
        postfix_dsn("full@example.com", "4.2.2", FULL, action="delayed", arrival=None),
    )
    db = open_db(config.db_path)
    received = from_iso(db.conn.execute("SELECT received_at FROM messages").fetchone()[0])
    db.close()
    at = lambda delta: to_iso(received + delta)  # noqa: E731

    assert _sweep(running.db_path, at(timedelta(hours=3, minutes=59))) == []
    assert _sweep(running.db_path, at(timedelta(hours=4, minutes=1))) == ["delivery.delayed"]
    assert _sweep(running.db_path, at(timedelta(hours=4, minutes=2))) == []

    restarted = start_daemon(config)
    restarted.stop()

    assert _sweep(running.db_path, at(timedelta(days=4, minutes=1))) == ["delivery.given_up"]
    assert _sweep(running.db_path, at(timedelta(days=4, minutes=2))) == []
    assert _cli(running.db_path, "suppression", "show", "full@example.com")[0] == 1

    code, output = _cli(running.db_path, "events", "--json")
    listed = [json.loads(line) for line in output.splitlines()]
    assert [e["type"] for e in listed] == [
        "delivery.deferred",
        "delivery.delayed",
        "delivery.given_up",
    ]
    assert [e["recorded_at"] for e in listed] == sorted(e["recorded_at"] for e in listed)
    assert listed[2]["at"] == at(timedelta(days=4))  # the time it describes
    assert listed[2]["recorded_at"] < listed[2]["at"]  # written now, not in the future
    code, output = _cli(running.db_path, "deferrals", "--json")
    (deferral,) = [json.loads(line) for line in output.splitlines()]
    assert deferral["close_reason"] == "given_up"
    assert deferral["warned_at"] <= deferral["closed_at"] <= to_iso(utcnow())


def test_dry_run_fires_nothing(tmp_path: Path, store_url: str) -> None:
    config = make_config(tmp_path, store_url)
    running = deliver(
        config,
        postfix_dsn(
            "slow@example.com",
            "4.4.1",
            "connect to mx.example.com: Connection timed out",
            action="delayed",
            arrival=None,
        ),
    )
    code, output = _cli(running.db_path, "sweep", "--now", "2099-01-01T00:00:00Z", "--dry-run")
    assert code == 0 and "would fire 2 event(s)" in output
    assert _sweep(running.db_path, "2099-01-01T00:00:00Z") == [
        "delivery.delayed",
        "delivery.given_up",
    ]


def test_resolve_closes_the_deferral(tmp_path: Path, store_url: str) -> None:
    config = make_config(tmp_path, store_url)
    running = deliver(
        config,
        postfix_dsn("late@example.com", "4.2.2", FULL, action="delayed", arrival=None),
    )
    assert _cli(running.db_path, "resolve", "late@example.com")[0] == 0
    assert _cli(running.db_path, "resolve", "late@example.com")[0] == 1
    assert _sweep(running.db_path, "2099-01-01T00:00:00Z") == []


def test_a_sweep_at_a_future_time_leaves_the_store_in_order(tmp_path: Path, store_url: str) -> None:
    config = make_config(tmp_path, store_url)
    delay = postfix_dsn("later@example.com", "4.2.2", FULL, action="delayed", arrival=None)
    running = deliver(config, delay)
    future = to_iso(utcnow() + timedelta(hours=5))
    assert _sweep(running.db_path, future) == ["delivery.delayed"]
    delivered = postfix_dsn("later@example.com", "2.0.0", "250 2.0.0 Ok", action="delivered")
    deliver(config, delivered)
    code, output = _cli(running.db_path, "deferrals", "--json")
    (deferral,) = [json.loads(line) for line in output.splitlines()]
    assert deferral["close_reason"] == "recovered"
    assert deferral["warned_at"] <= deferral["closed_at"] <= to_iso(utcnow())
    code, output = _cli(running.db_path, "events", "--json")
    listed = [json.loads(line) for line in output.splitlines()]
    assert [e["type"] for e in listed] == [
        "delivery.deferred",
        "delivery.delayed",
        "delivery.recovered",
    ]
    assert [e["recorded_at"] for e in listed] == sorted(e["recorded_at"] for e in listed)
    assert listed[1]["at"] > listed[1]["recorded_at"]  # describes the simulated moment
