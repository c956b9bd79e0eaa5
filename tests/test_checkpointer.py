"""The write-ahead log is copied back by the checkpointer, not inside the writers' commits: on a
real database file, writers opened with checkpoint_on_commit=False let the log grow until a
checkpoint copies it, and the daemon's Checkpointer loop does that on its own connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bouncer.daemon.checkpointer import Checkpointer
from bouncer.daemon.health import Health
from bouncer.store import open_db, wal_checkpoint

ROW = "x" * 3000  # about one page a row


def _write(db, rows: int) -> None:  # noqa: ANN001
    with db.atomic():
        db.conn.executemany("INSERT INTO filler (body) VALUES (?)", [(ROW,)] * rows)


def _writer(path: Path, **options):  # noqa: ANN003, ANN202
    db = open_db(path, **options)
    db.conn.execute("CREATE TABLE IF NOT EXISTS filler (body TEXT)")
    return db


def test_a_writer_without_checkpoint_on_commit_leaves_the_log_to_a_checkpoint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    writer = _writer(path, checkpoint_on_commit=False)
    assert writer.conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    for _ in range(3):
        _write(writer, 600)  # 1,800 pages: past the 1,000 a commit would checkpoint at
    other = open_db(path)
    logged, copied, _busy = wal_checkpoint(other)
    assert logged > 1500 and copied == logged
    _write(writer, 10)  # the log starts over once everything was copied
    assert wal_checkpoint(other)[0] < 100


def test_by_default_a_commit_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    writer = _writer(path)
    assert writer.conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    for _ in range(3):
        _write(writer, 600)
    assert wal_checkpoint(open_db(path))[0] < 1500  # restarted by a commit's checkpoint


def test_the_checkpointer_loop_copies_the_log(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    writer = _writer(path, checkpoint_on_commit=False)
    _write(writer, 300)

    async def run() -> int:
        checkpointer = Checkpointer(path, Health(), interval=0.01)
        task = asyncio.create_task(checkpointer.run())
        for _ in range(500):  # until its first pass has copied the log (bounded)
            if checkpointer.copied:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await checkpointer.close()
        return checkpointer.copied

    assert asyncio.run(run()) >= 300
    _write(writer, 10)
    assert wal_checkpoint(open_db(path))[0] < 100  # the log started over


def test_a_log_over_the_bound_is_restarted_in_turn_with_the_writers(
    tmp_path: Path, monkeypatch
) -> None:

    from bouncer.daemon import checkpointer

    path = tmp_path / "f.db"
    writer = _writer(path, checkpoint_on_commit=False, take_turns=True)
    reader = open_db(path)
    reader.conn.execute("BEGIN")
    reader.conn.execute("SELECT COUNT(*) FROM filler").fetchone()  # a snapshot before the pages
    _write(writer, 400)
    assert wal_checkpoint(open_db(path))[1] < 400  # PASSIVE: not past the reader's snapshot
    monkeypatch.setattr(checkpointer, "RESTART_PAGES", 100)
    pass_ = checkpointer.Checkpointer(path, Health())
    pass_._checkpoint()  # the reader's snapshot keeps RESTART busy: given up after a moment
    assert pass_.restarts == 0
    _write(writer, 10)  # and the writers went on meanwhile
    assert wal_checkpoint(open_db(path))[0] > 400  # the log did not start over
    reader.conn.execute("COMMIT")
    pass_._checkpoint()
    assert pass_.restarts == 1
    _write(writer, 10)
    assert wal_checkpoint(open_db(path))[0] < 100  # the log started over
