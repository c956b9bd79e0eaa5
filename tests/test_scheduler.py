"""The scheduler on a real store with a fake clock: sweeps fire once, raw copies expire."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bouncer.app.processing import process
from bouncer.core.tracker import DEFAULT_POLICY
from bouncer.daemon.scheduler import Scheduler
from bouncer.daemon.worker import Processor
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from bouncer.store.retention import Retention
from tests.messages import postfix_dsn

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _stored(path: Path, count: int) -> None:
    """Store and process count delay DSNs received at T0."""
    db = open_db(path)
    raw = postfix_dsn(
        "full@example.com", "4.2.2", "452 4.2.2 Mailbox full", action="delayed", arrival=None
    )
    inbox.insert_batch(db, [Incoming(T0, "<>", ("b@localhost",), None, raw)] * count)
    for message in inbox.unprocessed(db):
        process(db, message, T0)
    db.close()


def _run(path: Path, clock: FakeClock, steps: list[timedelta], keep: timedelta) -> list[list]:
    """Sweep once after each clock step; return the event types fired per sweep."""

    async def main() -> list[list]:
        processor = Processor(path, clock=clock)
        scheduler = Scheduler(
            processor,
            DEFAULT_POLICY,
            timedelta(seconds=1),
            clock=clock,
            retention=Retention(keep, None, None),
        )
        fired = []
        for step in steps:
            clock.now = T0 + step
            fired.append([e["type"] for e in await scheduler.sweep()])
        await processor.close()
        return fired

    return asyncio.run(main())


def test_sweeps_fire_each_timer_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _stored(path, 1)
    steps = [
        timedelta(hours=3),
        timedelta(hours=5),
        timedelta(hours=6),
        timedelta(days=5),
        timedelta(days=6),
    ]
    fired = _run(path, FakeClock(T0), steps, timedelta(days=90))
    assert fired == [[], ["delivery.delayed"], [], ["delivery.given_up"], []]


def test_raw_copies_are_dropped_after_the_retention_period(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    _stored(path, 3)
    _run(path, FakeClock(T0), [timedelta(days=1)], timedelta(days=2))
    db = open_db(path)
    assert db.conn.execute("SELECT COUNT(*) FROM raw_messages").fetchone() == (3,)
    db.close()
    _run(path, FakeClock(T0), [timedelta(days=3)], timedelta(days=2))
    db = open_db(path)
    rows = db.conn.execute("SELECT pruned_at IS NOT NULL FROM messages").fetchall()
    assert rows == [(1,)] * 3
    assert db.conn.execute("SELECT COUNT(*) FROM raw_messages").fetchone() == (0,)
    assert list(inbox.select_for_reprocess(db)) == []
    # three copies of one report: its one record stays after the raw copies go
    assert db.conn.execute("SELECT COUNT(*) FROM bounces").fetchone() == (1,)
    db.close()
