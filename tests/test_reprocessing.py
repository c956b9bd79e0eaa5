"""Reprocessing streams the store a page at a time and writes in short transactions, on a real
database; one message that fails is marked and the rest go on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bouncer.app import reprocess as reprocessing
from bouncer.app.processing import process
from bouncer.config import Config
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def _stored(path: Path, count: int):  # noqa: ANN202
    db = open_db(path)
    for n in range(count):
        at = T0 + timedelta(minutes=n)
        raw = postfix_dsn(f"gone{n}@example.com", "5.1.1", "550 5.1.1 User unknown", at=at)
        [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
        process(db, next(m for m in inbox.unprocessed(db) if m.id == message_id), at)
    return db


def _statements(db, run) -> list[str]:  # noqa: ANN001, ANN202
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        db.conn.set_trace_callback(None)
    return seen


def test_pages_are_read_by_id_and_progress_is_told(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    db = _stored(tmp_path / "r.db", 10)
    monkeypatch.setattr(reprocessing, "PAGE", 3)
    told: list[int] = []
    seen = _statements(
        db,
        lambda: told.append(reprocessing.reprocess(db, Config(), lambda: T0, progress=told.append)),
    )
    summary = told.pop()
    assert summary == {"messages": 10, "kind_changed": 0, "failed": 0}
    assert told == [3, 3, 3, 1]
    pages = [sql for sql in seen if "m.id >" in sql and "LIMIT 3" in sql]
    assert len(pages) == 5  # four pages and the empty read that ends them
    assert inbox.count_for_reprocess(db) == 10


def test_writes_commit_in_short_transactions(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    db = _stored(tmp_path / "r.db", 6)
    monkeypatch.setattr(reprocessing, "HOLD_SECONDS", 0.0)  # commit after every message
    seen = _statements(db, lambda: reprocessing.reprocess(db, Config(), lambda: T0))
    assert sum(sql == "COMMIT" for sql in seen) == 6
    assert db.conn.execute("SELECT COUNT(*) FROM bounces").fetchone() == (6,)


def test_a_message_that_fails_to_write_is_marked_and_the_rest_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _stored(tmp_path / "r.db", 5)
    real = reprocessing.write

    def failing(db, prepared, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if prepared.message.id == 3:
            raise RuntimeError("disk trouble")
        return real(db, prepared, *args, **kwargs)

    monkeypatch.setattr(reprocessing, "write", failing)
    summary = reprocessing.reprocess(db, Config(), lambda: T0)
    assert summary == {"messages": 5, "kind_changed": 0, "failed": 1}
    states = db.conn.execute("SELECT id, state FROM messages ORDER BY id").fetchall()
    assert states == [
        (1, "processed"),
        (2, "processed"),
        (3, "failed"),
        (4, "processed"),
        (5, "processed"),
    ]
    assert db.conn.execute("SELECT COUNT(*) FROM bounces WHERE message_id = 3").fetchone() == (1,)
