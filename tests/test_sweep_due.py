"""The sweep reads deferrals by their next due time: bounded steps, only what is due, due
times kept right when the timer settings change. Real SQLite file, injected times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bouncer.app import sweeping
from bouncer.app.processing import process
from bouncer.core.tracker import DEFAULT_POLICY
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _deferred(path: str | Path, count: int, at: datetime = T0):  # noqa: ANN202
    """A database with `count` open deferrals opened at `at` (one delay notice each)."""
    db = open_db(path)
    for n in range(count):
        address = f"slow{n}@example.com"
        raw = postfix_dsn(address, "4.4.1", "421 4.4.1 timed out", action="delayed", at=at)
        [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
        process(db, next(m for m in inbox.unprocessed(db) if m.id == message_id), at)
    return db


def _types(events: list[dict]) -> list[str]:
    return sorted({e["type"] for e in events})


def _open_due(db) -> list[str | None]:  # noqa: ANN001
    rows = db.conn.execute("SELECT due_at FROM deferrals WHERE closed_at IS NULL ORDER BY id")
    return [row[0] for row in rows]


def test_each_open_deferral_carries_its_next_due_time(store_url: str) -> None:
    db = _deferred(store_url, 3)
    # started at the Arrival-Date, a minute before the report: warned 4 hours after that
    assert set(_open_due(db)) == {"2026-03-02T12:59:00.000Z"}
    with db.atomic():
        sweeping.sweep(db, T0 + 5 * HOUR, DEFAULT_POLICY)
    assert set(_open_due(db)) == {"2026-03-06T08:59:00.000Z"}  # then the 4-day give-up
    with db.atomic():
        sweeping.sweep(db, T0 + 97 * HOUR, DEFAULT_POLICY)
    assert _open_due(db) == []


def test_a_step_is_bounded_and_the_sweep_finishes(store_url: str) -> None:
    db = _deferred(store_url, 12)
    steps, fired, more = 0, [], True
    while more:
        with db.atomic():
            events, more = sweeping.sweep_step(db, T0 + 5 * HOUR, DEFAULT_POLICY, limit=5)
        fired += events
        steps += 1
        assert len(events) <= 5
    assert steps == 3
    assert [e["type"] for e in fired] == ["delivery.delayed"] * 12


def test_a_daemon_sweep_transaction_ends_by_its_length(store_url: str, monkeypatch) -> None:  # noqa: ANN001
    """sweep_bounded: one transaction of slices; with no time to spare, one slice a call."""
    db = _deferred(store_url, 45)
    monkeypatch.setattr(sweeping, "HOLD_SECONDS", 0.0)
    calls, fired, more = 0, [], True
    while more:
        events, more = sweeping.sweep_bounded(db, T0 + 5 * HOUR, DEFAULT_POLICY)
        assert len(events) <= sweeping.SWEEP_SLICE
        fired += events
        calls += 1
    assert calls == 3  # 20 + 20 + 5
    assert sorted(e["recipient"] for e in fired) == sorted(
        f"slow{n}@example.com" for n in range(45)
    )
    assert set(_open_due(db)) == {"2026-03-06T08:59:00.000Z"}  # each warned once, then the give-up


def test_a_daemon_sweep_transaction_fires_at_most_a_batch(store_url: str, monkeypatch) -> None:  # noqa: ANN001
    db = _deferred(store_url, 12)
    monkeypatch.setattr(sweeping, "SWEEP_SLICE", 5)
    monkeypatch.setattr(sweeping, "SWEEP_BATCH", 10)
    monkeypatch.setattr(sweeping, "HOLD_SECONDS", 3600.0)
    first, more = sweeping.sweep_bounded(db, T0 + 5 * HOUR, DEFAULT_POLICY)
    assert (len(first), more) == (10, True)
    rest, more = sweeping.sweep_bounded(db, T0 + 5 * HOUR, DEFAULT_POLICY)
    assert (len(rest), more) == (2, False)


def test_nothing_due_reads_nothing(tmp_path: Path) -> None:
    """SQLite only: the statements are seen through sqlite3's trace callback."""
    db = _deferred(tmp_path / "d.db", 4)
    with db.atomic():
        assert sweeping.sweep_step(db, T0 + HOUR, DEFAULT_POLICY) == ([], False)
    read = []
    db.conn.set_trace_callback(read.append)
    with db.atomic():
        sweeping.sweep_step(db, T0 + 2 * HOUR, DEFAULT_POLICY)
    db.conn.set_trace_callback(None)
    assert not [sql for sql in read if sql.startswith("UPDATE deferrals")]


def test_changed_timer_settings_date_every_open_deferral_again(store_url: str) -> None:
    db = _deferred(store_url, 7)
    sooner = replace(DEFAULT_POLICY, warn_after=HOUR)
    with db.atomic():
        fired = sweeping.sweep(db, T0 + 2 * HOUR, sooner)
    assert [e["type"] for e in fired] == ["delivery.delayed"] * 7
    with db.atomic():  # and back: the warnings have fired, the give-up follows the 4 days
        assert sweeping.sweep(db, T0 + 5 * HOUR, DEFAULT_POLICY) == []
    assert set(_open_due(db)) == {"2026-03-06T08:59:00.000Z"}


def test_deferrals_from_before_due_times_are_dated_on_the_first_sweep(store_url: str) -> None:
    db = _deferred(store_url, 3)
    db.conn.execute("UPDATE deferrals SET due_at = NULL")  # as a migrated database has them
    with db.atomic():
        assert _types(sweeping.sweep(db, T0 + 5 * HOUR, DEFAULT_POLICY)) == ["delivery.delayed"]
    assert None not in _open_due(db)
