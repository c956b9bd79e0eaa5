"""Upgrading a database written by an earlier bouncer (schema 4) keeps its history and keys it
by the address identity rule."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bouncer.store import StoreError, events, open_db, records, suppressions
from bouncer.store.schema import MIGRATIONS

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SUPPRESSION = (
    "INSERT INTO suppressions (address, reason, class, source, first_seen, last_seen, "
    "expires_at) VALUES (?, ?, ?, 'bounce', '2026-11-20T00:00:00.000Z', ?, ?)"
)


def _schema_4(path: Path) -> None:
    """Write a schema-4 database holding the rows an earlier version stored."""
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:4], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.execute(
        "INSERT INTO messages (received_at, mail_from, rcpt_to, size, raw, state) "
        "VALUES ('2026-11-20T00:00:00.000Z', '<>', '[]', 0, x'', 'processed')"
    )
    conn.execute(
        "INSERT INTO bounces (message_id, received_at, kind, recipient, original_recipient, "
        "class, reason) VALUES (1, '2026-11-20T00:00:00.000Z', 'bounce', "
        "'u1@mbox.example.com', 'Ann@Example.com', 'hard', 'userunknown')"
    )
    rows = [
        ("Gone@Example.com", "userunknown", "hard", "2026-11-20T00:00:00.000Z", None),
        ("gone@example.com", "expired", "soft", "2026-11-21T00:00:00.000Z", "2026-12-30"),
    ]
    conn.executemany(SUPPRESSION, rows)
    conn.execute(
        "INSERT INTO events (id, type, at, recipient, data) "
        "VALUES ('e1', 'bounce.hard', '2026-11-20T00:00:00.000Z', 'Ann@Example.com', '{}')"
    )
    conn.commit()
    conn.close()


def test_schema_4_is_upgraded_with_keys_and_merged_identities(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema_4(path)
    db = open_db(path)
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    (entry,) = suppressions.list_active(db, NOW)
    assert (entry["address"], entry["reason"], entry["expires_at"]) == (
        "Gone@Example.com",
        "userunknown",
        None,
    )
    (record,) = records.search(db, recipient="ann@example.com")
    assert (record["recipient"], record["final_recipient"]) == (
        "Ann@Example.com",
        "u1@mbox.example.com",
    )
    assert records.search(db, recipient="U1@mbox.example.com") == [record]
    (event,) = events.search(db, recipient="ANN@example.com")
    assert event["recorded_at"] == event["at"]


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_db(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this bouncer"):
        open_db(path)


def test_raw_copies_stored_before_their_own_table_are_read_and_pruned(tmp_path: Path) -> None:
    from datetime import timedelta

    from bouncer.store import inbox
    from bouncer.store.inbox import Incoming

    path = tmp_path / "six.db"
    _schema_4(path)
    conn = sqlite3.connect(path)
    conn.create_function("bouncer_identity", 0, lambda: "caseless")
    conn.create_function("address_key", 1, lambda address: address and address.lower())
    conn.create_function("about_address", 2, lambda final, original: final)
    for number, script in enumerate(MIGRATIONS[4:6], start=5):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.execute("DELETE FROM bounces")
    conn.execute("DELETE FROM messages")
    conn.execute(
        "INSERT INTO messages (received_at, mail_from, rcpt_to, size, raw, state) "
        "VALUES ('2026-11-20T00:00:00.000Z', '<>', '[]', 5, x'6f6c642121', 'processed')"
    )
    conn.commit()
    conn.close()
    db = open_db(path)
    [new] = inbox.insert_batch(db, [Incoming(NOW, "<>", ("b@x",), None, b"new!")])
    assert (inbox.raw_of(db, 1), inbox.raw_of(db, new)) == (b"old!!", b"new!")
    assert [m.raw for m in inbox.select_for_reprocess(db)] == [b"old!!", b"new!"]
    assert inbox.prune_raw(db, NOW, NOW + timedelta(days=1)) == 1
    assert inbox.raw_of(db, 1) == b""
    assert db.conn.execute("SELECT length(raw) FROM messages WHERE id = 1").fetchone() == (0,)


def test_final_keys_equal_to_the_recipients_are_cleared_and_still_found(tmp_path: Path) -> None:

    path = tmp_path / "seven.db"
    _schema_4(path)
    conn = sqlite3.connect(path)
    conn.create_function("bouncer_identity", 0, lambda: "caseless")
    conn.create_function("address_key", 1, lambda address: address and address.lower())
    conn.create_function("about_address", 2, lambda final, original: original or final)
    for number, script in enumerate(MIGRATIONS[4:7], start=5):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.execute(
        "INSERT INTO bounces (message_id, received_at, kind, recipient, class, reason, "
        "final_recipient, recipient_key, final_key) VALUES (1, '2026-11-21T00:00:00.000Z', "
        "'bounce', 'same@example.org', 'hard', 'userunknown', 'Same@example.org', "
        "'same@example.org', 'same@example.org')"
    )
    conn.commit()
    conn.close()
    db = open_db(path)
    keys = db.conn.execute("SELECT recipient_key, final_key FROM bounces ORDER BY id").fetchall()
    assert keys == [("ann@example.com", "u1@mbox.example.com"), ("same@example.org", None)]
    for address in (
        "u1@mbox.example.com",
        "ann@example.com",
        "same@example.org",
        "@mbox.example.com",
    ):
        assert len(records.search(db, recipient=address)) == 1, address
    assert len(events.search(db, recipient="ann@example.com")) == 1


def test_schema_7_gains_the_alert_tables_and_keeps_its_rows(tmp_path: Path) -> None:
    from bouncer.core.episodes import Episode
    from bouncer.store import alerts

    path = tmp_path / "seven.db"
    _schema_4(path)
    conn = sqlite3.connect(path)
    conn.create_function("bouncer_identity", 0, lambda: "caseless")
    conn.create_function("address_key", 1, lambda address: address and address.lower())
    conn.create_function("about_address", 2, lambda final, original: final)
    for number, script in enumerate(MIGRATIONS[4:7], start=5):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.close()
    db = open_db(path)
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    (event,) = events.search(db, recipient="ann@example.com")
    assert event["type"] == "bounce.hard"
    alerts.add_counts(db, {("all", NOW): 2})
    assert alerts.total(db, "all", NOW.replace(hour=11), NOW) == 2
    saved = alerts.save(db, Episode("all", NOW, NOW, 2, 2))
    assert alerts.latest(db, "all") == saved
