"""Upgrading a database written by an earlier bouncer (schema 4) keeps its history and keys it
by the address identity rule (SQLite); the PostgreSQL schema is kept in step with SQLite's;
a database newer than the code or of something else is refused (both)."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg
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


def _upgraded(path: Path, version: int) -> sqlite3.Connection:
    """Take a schema-4 database to `version` as the bouncer of that version did (caseless
    addresses); return the connection."""
    conn = sqlite3.connect(path)
    conn.create_function("bouncer_identity", 0, lambda: "caseless")
    conn.create_function("address_key", 1, lambda address: address and address.lower())
    conn.create_function("about_address", 2, lambda final, original: final)
    for number, script in enumerate(MIGRATIONS[4:version], start=5):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return conn


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
    conn = _upgraded(path, 6)
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
    conn = _upgraded(path, 7)
    conn.close()
    db = open_db(path)
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    (event,) = events.search(db, recipient="ann@example.com")
    assert event["type"] == "bounce.hard"
    alerts.add_counts(db, {("all", NOW): 2})
    assert alerts.total(db, "all", NOW.replace(hour=11), NOW) == 2
    saved = alerts.save(db, Episode("all", NOW, NOW, 2, 2))
    assert alerts.latest(db, "all") == saved


def _sqlite_schema(db) -> tuple[dict[str, list[str]], set[str]]:  # noqa: ANN001
    """Return {table: columns in order} and the index names of a SQLite store."""
    tables = [
        row[0] for row in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    columns = {
        table: [row[1] for row in db.conn.execute(f"PRAGMA table_info({table})")]
        for table in tables
    }
    indexes = {
        row[0]
        for row in db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    return columns, indexes


def _postgresql_schema(db) -> tuple[dict[str, list[str]], set[str]]:  # noqa: ANN001
    """Return {table: columns in order} and the index names (own, not the keys') of a
    PostgreSQL store."""
    columns: dict[str, list[str]] = {}
    for table, column in db.conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        columns.setdefault(table, []).append(column)
    indexes = {
        row[0]
        for row in db.conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key'"
        )
    }
    return columns, indexes


def test_both_backends_hold_the_same_schema_at_the_same_version(
    tmp_path: Path,
    pg_cluster,
    pg_template,  # noqa: ANN001
) -> None:
    lite = open_db(tmp_path / "s.db")
    postgres = open_db(pg_cluster.url(pg_template))
    try:
        assert _postgresql_schema(postgres) == _sqlite_schema(lite)
        version = postgres.conn.execute(
            "SELECT value FROM meta WHERE name = 'schema_version'"
        ).fetchone()[0]
        assert int(version) == len(MIGRATIONS)
    finally:
        lite.close()
        postgres.close()


def test_every_postgresql_text_column_compares_bytes(pg_cluster, pg_template) -> None:  # noqa: ANN001
    """Times, keys and scopes compare as on SQLite (byte order), whatever the locale."""
    db = open_db(pg_cluster.url(pg_template))
    try:
        collations = db.conn.execute(
            "SELECT DISTINCT collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'text'"
        ).fetchall()
    finally:
        db.close()
    assert collations == [("C",)]


def test_a_store_newer_than_the_code_is_refused(new_store) -> None:  # noqa: ANN001
    url = new_store()
    db = open_db(url)
    if db.dialect == "sqlite":
        db.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    else:
        db.execute(
            "UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(len(MIGRATIONS) + 1),)
        )
    db.close()
    with pytest.raises(StoreError, match="newer than this bouncer"):
        open_db(url)


def test_a_database_of_something_else_is_refused(new_store) -> None:  # noqa: ANN001
    url = new_store(empty=True)
    if url.startswith("postgresql:"):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE invoices (n integer)")
    else:
        with contextlib.closing(sqlite3.connect(url)) as conn:
            conn.execute("CREATE TABLE invoices (n integer)")
    with pytest.raises(StoreError, match="not a bouncer database"):
        open_db(url)


FINGERPRINTS = [
    hashlib.sha256(text).hexdigest() for text in (b"a", b"b", b"report", b"copy", b"\xff" * 9)
]


def test_schema_10_finds_its_copies_by_the_fingerprint_key(tmp_path: Path) -> None:
    """Migration 11 keys the fingerprints already stored, so a copy of a report processed
    before the upgrade is still recognised after it."""
    from bouncer.store import inbox

    path = tmp_path / "ten.db"
    _schema_4(path)
    conn = _upgraded(path, 10)
    for text in FINGERPRINTS:
        conn.execute(
            "INSERT INTO messages (received_at, mail_from, rcpt_to, size, raw, state, "
            "fingerprint) VALUES ('2026-11-20T00:00:00.000Z', '<>', '[]', 0, x'', "
            "'processed', ?)",
            (text,),
        )
    conn.commit()
    conn.close()
    db = open_db(path)
    try:
        assert [inbox.first_copy(db, text, NOW) for text in FINGERPRINTS] == [2, 3, 4, 5, 6]
        assert inbox.first_copy(db, FINGERPRINTS[0][:16] + "0" * 48, NOW) is None  # key alone
    finally:
        db.close()


def test_both_backends_key_a_fingerprint_alike(pg_cluster, pg_template) -> None:  # noqa: ANN001
    """PostgreSQL's migration computes the key as bouncer.store.schema.fingerprint_key does
    (including fingerprints whose first bit is set: negative keys)."""
    from bouncer.store.schema import fingerprint_key

    db = open_db(pg_cluster.url(pg_template))
    try:
        for text in FINGERPRINTS:
            (key,) = db.conn.execute(
                "SELECT ('x' || substr(?, 1, 16))::bit(64)::bigint", (text,)
            ).fetchone()
            assert key == fingerprint_key(text)
    finally:
        db.close()
    assert any(fingerprint_key(text) < 0 for text in FINGERPRINTS)


def test_a_spool_key_is_stored_once_and_messages_without_one_are_many(store) -> None:  # noqa: ANN001
    """Schema 12: messages.spool_key, unique where given (a spooled message forwarded twice is
    refused, or skipped by ON CONFLICT), on both backends."""
    from bouncer.store import inbox
    from bouncer.store.inbox import Incoming

    plain = Incoming(NOW, "<>", ("b@localhost",), None, b"x")
    keyed = Incoming(
        NOW, "<>", ("b@localhost",), None, b"x", "0190c2a0-0000-7000-8000-000000000001"
    )
    inbox.insert_batch(store, [plain, plain, keyed])
    with pytest.raises(Exception, match="(?i)unique"):  # noqa: PT011 - sqlite3's or psycopg's
        inbox.insert_batch(store, [keyed])
    keys = store.conn.execute("SELECT spool_key FROM messages ORDER BY id").fetchall()
    assert [key for (key,) in keys] == [None, None, keyed.spool_key]
