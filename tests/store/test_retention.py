"""Retention on each backend (a real SQLite file, a real PostgreSQL database): what is
dropped, what a decision rests on stays; a SQLite file gives its space back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bouncer.app.editing import remove_manual
from bouncer.app.processing import process
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from bouncer.store.retention import Retention, prune_once
from tests.messages import postfix_dsn

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
KEEP = Retention(keep_raw=10 * DAY, keep_records=30 * DAY, keep_events=60 * DAY)


def _hard(address: str) -> bytes:
    return postfix_dsn(address, "5.1.1", f"550 5.1.1 <{address}>: User unknown", at=T0)


def _soft(address: str) -> bytes:
    return postfix_dsn(address, "4.2.2", "452 4.2.2 Mailbox full", action="failed", at=T0)


def _receive(db, raw: bytes, at: datetime) -> int:  # noqa: ANN001
    """Store one message received at `at` and process it then; return its id."""
    [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
    [message] = [m for m in inbox.unprocessed(db) if m.id == message_id]
    process(db, message, at)
    return message_id


def _count(db, table: str) -> int:  # noqa: ANN001
    return db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _drain(db, now: datetime, retention: Retention = KEEP) -> None:  # noqa: ANN001
    while prune_once(db, now, retention, batch=7).messages:
        pass


def test_records_past_their_period_go_with_their_bounces(store) -> None:  # noqa: ANN001
    db = store
    old = [_receive(db, _soft(f"full{n}@example.com"), T0) for n in range(20)]
    recent = _receive(db, _soft("recent@example.com"), T0 + 25 * DAY)
    _drain(db, T0 + 40 * DAY)
    ids = {row[0] for row in db.conn.execute("SELECT id FROM messages")}
    assert ids == {recent}
    assert not set(old) & {r[0] for r in db.conn.execute("SELECT message_id FROM bounces")}
    assert _count(db, "bounces") == 1


def test_the_evidence_of_an_active_suppression_stays(store) -> None:  # noqa: ANN001
    db = store
    evidence = _receive(db, _hard("gone@example.com"), T0)
    lifted = _receive(db, _hard("back@example.com"), T0)
    remove_manual(db, "back@example.com", T0 + DAY, "cli:test", "mailbox restored")
    _drain(db, T0 + 400 * DAY)
    assert {row[0] for row in db.conn.execute("SELECT id FROM messages")} == {evidence}
    assert lifted not in {row[0] for row in db.conn.execute("SELECT message_id FROM bounces")}


def test_unprocessed_and_failed_messages_stay(store) -> None:  # noqa: ANN001
    db = store
    [waiting] = inbox.insert_batch(db, [Incoming(T0, "<>", ("b@localhost",), None, b"x")])
    failed = _receive(db, _soft("f@example.com"), T0)
    inbox.mark_failed(db, failed, "boom", T0)
    _drain(db, T0 + 400 * DAY)
    assert {row[0] for row in db.conn.execute("SELECT id FROM messages")} == {waiting, failed}


def test_raw_copies_go_before_their_records(store) -> None:  # noqa: ANN001
    db = store
    message = _receive(db, _soft("full@example.com"), T0)
    prune_once(db, T0 + 15 * DAY, KEEP)
    assert inbox.raw_of(db, message) == b""
    assert db.conn.execute("SELECT pruned_at IS NOT NULL FROM messages").fetchall() == [(1,)]
    assert db.conn.execute("SELECT COUNT(*) FROM raw_messages").fetchone() == (0,)
    assert db.conn.execute("SELECT id FROM messages").fetchall() == [(message,)]


def test_events_go_unless_a_webhook_still_owes_them(store) -> None:  # noqa: ANN001
    db = store
    for n in range(5):
        _receive(db, _hard(f"gone{n}@example.com"), T0)
    seqs = [row[0] for row in db.conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert len(seqs) >= 5
    for seq, state in ((seqs[0], "pending"), (seqs[1], "delivered"), (seqs[2], "failed")):
        db.conn.execute(
            "INSERT INTO deliveries (url, event_seq, event_id, body, state, next_attempt_at) "
            "VALUES ('https://hooks.example/in', ?, 'e', ?, ?, '2026-01-10T09:00:00Z')",
            (seq, b"", state),
        )
    prune_once(db, T0 + 59 * DAY, KEEP)
    assert _count(db, "events") == len(seqs)
    prune_once(db, T0 + 61 * DAY, KEEP)
    assert [row[0] for row in db.conn.execute("SELECT seq FROM events")] == [seqs[0]]
    assert db.conn.execute("SELECT state FROM deliveries").fetchall() == [("pending",)]


def test_closed_deferrals_go_open_ones_stay(store) -> None:  # noqa: ANN001
    db = store
    delayed = postfix_dsn(
        "slow@example.com", "4.4.1", "421 4.4.1 timed out", action="delayed", at=T0
    )
    _receive(db, delayed, T0)
    _receive(db, postfix_dsn("done@example.com", "4.4.1", "421", action="delayed", at=T0), T0)
    _receive(db, _hard("done@example.com"), T0 + DAY)  # closes that deferral
    _drain(db, T0 + 400 * DAY, Retention(None, 30 * DAY, None))
    assert db.conn.execute("SELECT recipient, closed_at FROM deferrals").fetchall() == [
        ("slow@example.com", None)
    ]


def test_freed_space_goes_back_to_the_file_system(tmp_path: Path) -> None:
    """SQLite only: incremental vacuum (PostgreSQL's autovacuum reuses the space itself)."""
    path = tmp_path / "r.db"
    db = open_db(path)
    assert db.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    padding = b"\r\n" + b"Quoted original line of a large returned message.\r\n" * 2000
    for n in range(60):
        _receive(db, _soft(f"full{n}@example.com") + padding, T0)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    full = path.stat().st_size
    for _ in range(5):
        prune_once(db, T0 + 400 * DAY, KEEP)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert _count(db, "messages") == 0
    assert db.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert path.stat().st_size < full / 4


def test_free_pages_go_back_a_slice_a_statement(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Each incremental-vacuum statement is a write transaction: a pass returns its pages in
    statements of VACUUM_SLICE, so intake waits for one slice at most, not for the pass."""
    from bouncer.store import retention

    db = open_db(tmp_path / "v.db")
    padding = b"\r\n" + b"Quoted original line of a large returned message.\r\n" * 2000
    for n in range(20):
        _receive(db, _soft(f"full{n}@example.com") + padding, T0)
    db.execute("DELETE FROM raw_messages")
    db.execute("DELETE FROM bounces")
    db.execute("DELETE FROM messages")
    free = db.conn.execute("PRAGMA freelist_count").fetchone()[0]
    assert free > 20
    monkeypatch.setattr(retention, "VACUUM_SLICE", 7)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    assert retention.give_back_pages(db, 20) == 20
    db.conn.set_trace_callback(None)
    vacuums = [s for s in statements if "incremental_vacuum" in s]
    assert vacuums == [f"PRAGMA incremental_vacuum({n});" for n in (7, 7, 6)]
    assert db.conn.execute("PRAGMA freelist_count").fetchone()[0] == free - 20


def test_a_pass_ends_its_transaction_by_length_not_only_by_rows(store, monkeypatch) -> None:  # noqa: ANN001
    """A pass deletes in slices; on a file where a slice is slow (HOLD_SECONDS reached at
    once) its transaction holds one slice per kind, and the next pass goes on from there."""
    from bouncer.store import retention

    db = store
    for n in range(12):
        _receive(db, _soft(f"full{n}@example.com"), T0)
    monkeypatch.setattr(retention, "SLICE", 5)
    records_only = Retention(keep_raw=None, keep_records=30 * DAY, keep_events=None)
    assert prune_once(db, T0 + 40 * DAY, records_only, batch=10).messages == 10  # two slices
    monkeypatch.setattr(retention, "HOLD_SECONDS", 0.0)
    assert prune_once(db, T0 + 40 * DAY, records_only, batch=10).messages == 2  # short slice
    for n in range(12):
        _receive(db, _soft(f"again{n}@example.com"), T0)
    assert prune_once(db, T0 + 40 * DAY, records_only, batch=10).messages == 5  # one slice
    assert _count(db, "messages") == 7
