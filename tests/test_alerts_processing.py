"""Alerts applied to a real store by processing and sweeps: a burst gives one spike that ends
once; a run of blocks at one provider gives one sender.blocked, during which that provider's
bounces suppress nobody unless their status names the recipient (live and on reprocess)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bouncer.app import sweeping
from bouncer.app.processing import Settings, process
from bouncer.cli.main import main
from bouncer.clock import to_iso, utcnow
from bouncer.core.alerts import AlertPolicy
from bouncer.core.tracker import DEFAULT_POLICY
from bouncer.store import events, inbox, open_db, soft_failures, suppressions
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn

T0 = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
SMALL = AlertPolicy(threshold=10, domain_threshold=0, blocked_threshold=3)
UNKNOWN = "550 5.1.1 <{}>: Recipient address rejected: User unknown"
BLOCK = "550 5.7.1 Unfortunately, messages from [192.0.2.9] weren't sent. Please contact your \
Internet service provider since part of their network is on our block list (S3150)."
DENIED = "550 5.7.1 Recipient address rejected: Access denied"  # classified hard userunknown


@pytest.fixture
def db(tmp_path: Path):  # noqa: ANN201
    database = open_db(tmp_path / "alerts.db")
    yield database
    database.close()


def receive(db, raw: bytes, at: datetime, policy: AlertPolicy = SMALL) -> list[dict]:  # noqa: ANN001
    """Store a report received at `at` and process it then; return the events written."""
    (message_id,) = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
    message = next(m for m in inbox.unprocessed(db) if m.id == message_id)
    return list(process(db, message, at, Settings(alerts=policy)).events)


def bounce(db, address: str, status: str, text: str, at: datetime, **policy) -> list[dict]:  # noqa: ANN001, ANN003
    """Receive a Postfix DSN for one recipient at `at`."""
    raw = postfix_dsn(address, status, text, at=at, message_id=f"<{address}-{at.timestamp()}@a>")
    return receive(db, raw, at, replace(SMALL, **policy))


def sweep(db, now: datetime, policy: AlertPolicy = SMALL) -> list[dict]:  # noqa: ANN001
    with db.atomic():
        return sweeping.sweep(db, now, DEFAULT_POLICY, alert_policy=policy)


def alerts_of(db, kind: str = "") -> list[dict]:  # noqa: ANN001
    found = events.search(db, limit=10_000)
    return [e for e in found if e["type"].startswith(kind or ("failures.", "sender."))]


def test_a_burst_over_the_threshold_gives_exactly_one_spike_that_ends_once(db) -> None:  # noqa: ANN001
    for i in range(25):
        at = T0 + timedelta(seconds=i / 5)
        bounce(db, f"u{i}@d{i % 3}.example", "5.1.1", UNKNOWN.format(i), at)
    (spike,) = alerts_of(db)
    assert spike["type"] == "failures.spike" and spike["recipient"] is None
    assert (spike["scope"], spike["count"], spike["threshold"]) == ("all", 10, 10)
    assert spike["at"] == "2026-03-02T09:00:31.800Z"  # the tenth failure's receipt
    assert spike["reasons"] == [{"reason": "userunknown", "count": 10}]
    assert spike["domains"] == [
        {"domain": "d0.example", "count": 4},
        {"domain": "d1.example", "count": 3},
        {"domain": "d2.example", "count": 3},
    ]
    assert sweep(db, T0 + timedelta(minutes=30)) == []
    (ended,) = sweep(db, T0 + timedelta(hours=5))
    assert ended["type"] == "failures.spike_ended"
    assert ended["at"] == "2026-03-02T10:01:00.000Z"  # its minute left the hour's window
    assert (ended["peak"], ended["count"], ended["episode"]) == (25, 0, spike["id"])
    assert ended["recorded_at"] == "2026-03-02T14:00:30.000Z"
    assert sweep(db, T0 + timedelta(hours=6)) == []
    assert len(alerts_of(db)) == 2


def test_one_domain_over_its_threshold_gives_a_spike_naming_it(db) -> None:  # noqa: ANN001
    for i in range(6):
        bounce(db, f"u{i}@big.example", "5.1.1", UNKNOWN.format(i), T0, domain_threshold=5)
    (spike,) = alerts_of(db)
    assert (spike["scope"], spike["domain"], spike["count"]) == ("domain", "big.example", 5)


def test_copies_reprocessing_and_disabled_alerts_count_nothing(db) -> None:  # noqa: ANN001
    raw = postfix_dsn("a@x.example", "5.1.1", UNKNOWN.format("a"), at=T0)
    for _ in range(12):  # the same report again and again: it counts once
        receive(db, raw, T0)
    off = AlertPolicy(enabled=False, threshold=1)
    bounce(db, "b@x.example", "5.1.1", UNKNOWN.format("b"), T0, enabled=False, threshold=1)
    for message in inbox.select_for_reprocess(db):
        process(db, message, T0, Settings(alerts=replace(off, enabled=True)), reprocess=True)
    assert alerts_of(db) == []
    count = db.conn.execute("SELECT n FROM failure_counts WHERE scope = 'all'").fetchall()
    assert count == [(1,)]


def test_a_run_of_blocks_at_one_provider_gives_one_sender_blocked(db) -> None:  # noqa: ANN001
    for i in range(5):
        bounce(db, f"u{i}@outlook.com", "5.7.1", BLOCK, T0 + timedelta(seconds=i))
    bounce(db, "v@other.example", "5.7.1", BLOCK, T0 + timedelta(seconds=6))
    (blocked,) = alerts_of(db, "sender.")
    assert blocked["type"] == "sender.blocked"
    assert (blocked["provider"], blocked["count"], blocked["reason"]) == ("microsoft", 3, "blocked")
    assert blocked["diagnostic"] == BLOCK and blocked["status"] == "5.7.1"
    assert blocked["remote_mta"] == "mx.example.com"
    (ended,) = sweep(db, T0 + timedelta(hours=1))
    assert (ended["type"], ended["provider"]) == ("sender.blocked_ended", "microsoft")
    # the blocks' 10-second bucket (09:00:30) left the 10-minute window at 09:10:40
    assert ended["at"] == "2026-03-02T09:10:40.000Z"


def test_during_a_block_only_a_status_naming_the_recipient_suppresses(db) -> None:  # noqa: ANN001
    for i in range(3):
        bounce(db, f"u{i}@outlook.com", "5.7.1", BLOCK, T0)
    during = T0 + timedelta(minutes=1)
    (held,) = bounce(db, "held@outlook.com", "5.7.1", DENIED, during)
    assert (held["type"], held["class"], held["held_by"], held["provider"]) == (
        "bounce.hard",
        "hard",
        "sender.blocked",
        "microsoft",
    )
    assert suppressions.get(db, "held@outlook.com", during) is None
    explicit = bounce(db, "gone@outlook.com", "5.1.1", UNKNOWN.format("gone"), during)
    assert [e["type"] for e in explicit] == ["bounce.hard", "suppression.added"]
    elsewhere = bounce(db, "denied@other.example", "5.7.1", DENIED, during)
    assert [e["type"] for e in elsewhere] == ["bounce.hard", "suppression.added"]
    expired = bounce(db, "slow@outlook.com", "4.4.1", "421 4.4.1 connection timed out", during)
    assert {e.get("held_by") for e in expired} == {"sender.blocked"}
    assert soft_failures.days(db, "slow@outlook.com", T0.date()) == frozenset()
    after = T0 + timedelta(hours=2)
    sweep(db, after)
    again = bounce(db, "held@outlook.com", "5.7.1", DENIED, after)
    assert [e["type"] for e in again] == ["bounce.hard", "suppression.added"]


def test_a_reprocess_keeps_holding_what_was_received_during_a_block(db) -> None:  # noqa: ANN001
    for i in range(3):
        bounce(db, f"u{i}@outlook.com", "5.7.1", BLOCK, T0)
    bounce(db, "held@outlook.com", "5.7.1", DENIED, T0 + timedelta(minutes=1))
    sweep(db, T0 + timedelta(hours=2))
    later = T0 + timedelta(days=1)
    for message in inbox.select_for_reprocess(db):
        process(db, message, later, Settings(alerts=SMALL), reprocess=True)
    assert suppressions.get(db, "held@outlook.com", later) is None
    assert len(alerts_of(db)) == 2  # sender.blocked and its end, nothing more


def _sweep_command(db_path: Path, config: Path, *args: str) -> list[str]:
    """Run `bouncer sweep --json` on a database; return the types it fired."""
    result = CliRunner().invoke(
        main, ["sweep", "--json", *args, "--db", str(db_path), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line)["type"] for line in result.stdout.splitlines() if line.strip()]


def test_bouncer_sweep_ends_episodes_deciding_alerts_at_the_real_time(tmp_path: Path) -> None:
    config = tmp_path / "b.toml"
    config.write_text("[alerts]\nthreshold = 10\ndomain_threshold = 0\n")
    for name, age in (("recent", timedelta(minutes=5)), ("old", timedelta(hours=3))):
        db = open_db(tmp_path / f"{name}.db")
        at = utcnow() - age
        for i in range(10):
            bounce(db, f"u{i}@x.example", "5.1.1", UNKNOWN.format(i), at)
        assert [e["type"] for e in alerts_of(db)] == ["failures.spike"]
        db.close()
    later = to_iso(utcnow() + timedelta(hours=3))
    assert _sweep_command(tmp_path / "recent.db", config, "--now", later) == []
    assert _sweep_command(tmp_path / "old.db", config) == ["failures.spike_ended"]
    assert _sweep_command(tmp_path / "old.db", config) == []


def test_a_sweep_step_decides_each_open_episode_once(db) -> None:  # noqa: ANN001
    from bouncer.app import alerts as running_alerts

    policy = replace(SMALL, domain_threshold=5)
    for i in range(10):
        bounce(db, f"u{i}@big.example", "5.1.1", UNKNOWN.format(i), T0, domain_threshold=5)
    assert len(alerts_of(db)) == 2  # all, and big.example
    now = T0 + timedelta(seconds=20)
    steps = [running_alerts.sweep_step(db, now, policy, now, limit=1) for _ in range(3)]
    assert steps == [([], True), ([], True), ([], False)]
