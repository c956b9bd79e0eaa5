"""`bouncer db backup|check|prune|vacuum` on real database files, with a real daemon running."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from bouncer.app.processing import process
from bouncer.cli.main import main
from bouncer.clock import utcnow
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from tests.conftest import make_config, start_daemon
from tests.messages import postfix_dsn


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _dsn(n: int) -> bytes:
    address = f"user{n}@example.com"
    return postfix_dsn(address, "5.1.1", f"550 5.1.1 <{address}>: User unknown")


def test_backup_while_the_daemon_receives(tmp_path: Path) -> None:
    daemon = start_daemon(make_config(tmp_path))
    sent = threading.Event()

    def send() -> None:
        with daemon.client() as client:
            for n in range(300):
                client.sendmail("", ["bounces@localhost"], _dsn(n))
        sent.set()

    sender = threading.Thread(target=send)
    sender.start()
    copies = []
    try:
        while not sent.is_set() or len(copies) < 2:
            target = tmp_path / f"copy{len(copies)}.db"
            result = _run("db", "backup", "--db", str(daemon.db_path), str(target))
            assert result.exit_code == 0, result.output
            copies.append(target)
        sender.join()
        daemon.wait_processed(300)
    finally:
        daemon.stop()
    counts = []
    for copy in copies:
        assert copy.stat().st_mode & 0o777 == 0o600
        report = _run("db", "check", "--json", "--db", str(copy))
        assert report.exit_code == 0, report.output
        facts = json.loads(report.output)
        assert facts["ok"] and facts["auto_vacuum"] == "incremental"
        counts.append(facts["messages"])
    assert counts == sorted(counts) and counts[-1] <= 300
    assert not list(tmp_path.glob("*.partial"))


def test_a_backup_never_overwrites(tmp_path: Path) -> None:
    db_path = tmp_path / "b.db"
    open_db(db_path).close()
    target = tmp_path / "there.db"
    target.write_bytes(b"precious")
    result = _run("db", "backup", "--db", str(db_path), str(target))
    assert result.exit_code == 3
    assert "already exists" in result.output and "Traceback" not in result.output
    assert target.read_bytes() == b"precious"


def test_check_finds_a_damaged_file(tmp_path: Path) -> None:
    db_path = tmp_path / "b.db"
    db = open_db(db_path)
    inbox.insert_batch(db, [Incoming(utcnow(), "<>", ("b@x",), None, _dsn(n)) for n in range(200)])
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    healthy = _run("db", "check", "--db", str(db_path))
    assert healthy.exit_code == 0 and healthy.output.rstrip().endswith("ok")
    data = bytearray(db_path.read_bytes())
    page = 4096
    for offset in range(page * 3, len(data) - page, page * 5):  # scribble over some pages
        data[offset + 100 : offset + 400] = b"\xa5" * 300
    db_path.write_bytes(bytes(data))
    damaged = _run("db", "check", "--db", str(db_path))
    assert damaged.exit_code == 1, damaged.output
    assert "problem: " in damaged.output and "Traceback" not in damaged.output


def test_check_of_a_missing_database_is_one_line(tmp_path: Path) -> None:
    result = _run("db", "check", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 3
    assert len(result.output.strip().splitlines()) == 1


def test_prune_drops_what_is_past_its_period(tmp_path: Path) -> None:
    db_path = tmp_path / "b.db"
    config = tmp_path / "bouncer.toml"
    config.write_text(f'[store]\npath = "{db_path}"\nkeep_raw = "7d"\nkeep_records = "7d"\n')
    db = open_db(db_path)
    old, recent = utcnow() - timedelta(days=30), utcnow() - timedelta(days=1)
    for n, at in enumerate([old] * 5 + [recent] * 2):
        [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@x",), None, _dsn(n))])
        process(db, next(m for m in inbox.unprocessed(db) if m.id == message_id), at)
    db.conn.execute("DELETE FROM suppressions")  # no suppression keeps its evidence here
    db.close()
    result = _run("db", "prune", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "5 messages" in result.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2


def test_vacuum_switches_an_older_file_to_incremental(tmp_path: Path) -> None:
    db_path = tmp_path / "b.db"
    db = open_db(db_path)
    db.conn.execute("PRAGMA auto_vacuum=NONE")
    db.conn.execute("VACUUM")  # as files created before retention are
    assert db.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    db.close()
    result = _run("db", "vacuum", "--db", str(db_path))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
