"""Database schema as numbered migrations, applied in order and tracked in PRAGMA user_version."""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: raw messages, per-recipient bounce records, suppressions, events
    """
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        received_at TEXT NOT NULL,
        mail_from TEXT NOT NULL,
        rcpt_to TEXT NOT NULL,
        peer TEXT,
        size INTEGER NOT NULL,
        raw BLOB NOT NULL,
        state TEXT NOT NULL DEFAULT 'new',
        kind TEXT,
        error TEXT,
        processed_at TEXT
    );
    CREATE INDEX messages_unprocessed ON messages(state) WHERE state != 'processed';
    CREATE INDEX messages_received ON messages(received_at);
    CREATE TABLE bounces (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id),
        received_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        original_recipient TEXT,
        action TEXT,
        status TEXT,
        reply_code TEXT,
        class TEXT NOT NULL,
        reason TEXT NOT NULL,
        diagnostic TEXT,
        remote_mta TEXT,
        reporting_mta TEXT,
        arrival_date TEXT,
        bounce_address TEXT,
        orig_message_id TEXT,
        orig_from TEXT,
        orig_subject TEXT,
        feedback_type TEXT
    );
    CREATE INDEX bounces_recipient ON bounces(recipient, received_at);
    CREATE INDEX bounces_received ON bounces(received_at);
    CREATE INDEX bounces_message ON bounces(message_id);
    CREATE TABLE suppressions (
        address TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        class TEXT NOT NULL,
        source TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        status TEXT,
        diagnostic TEXT,
        message_id INTEGER,
        expires_at TEXT,
        note TEXT
    );
    CREATE INDEX suppressions_expiry ON suppressions(expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        recipient TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX events_type_at ON events(type, at);
    CREATE INDEX events_recipient ON events(recipient);
    """,
    # 2: deferral tracking, bounce scores, webhook outbox
    """
    CREATE TABLE deferrals (
        id INTEGER PRIMARY KEY,
        recipient TEXT NOT NULL,
        key TEXT NOT NULL DEFAULT '',
        opened_at TEXT NOT NULL,
        started_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_status TEXT,
        last_diagnostic TEXT,
        last_reason TEXT,
        orig_message_id TEXT,
        orig_from TEXT,
        orig_to TEXT,
        orig_subject TEXT,
        orig_date TEXT,
        warned_at TEXT,
        closed_at TEXT,
        close_reason TEXT
    );
    CREATE INDEX deferrals_open ON deferrals(recipient) WHERE closed_at IS NULL;
    CREATE INDEX deferrals_started ON deferrals(started_at);
    CREATE TABLE bounce_scores (
        recipient TEXT PRIMARY KEY,
        score INTEGER NOT NULL,
        last_day TEXT
    );
    CREATE TABLE webhook_cursors (
        url TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL DEFAULT 0,
        disabled_at TEXT,
        disabled_reason TEXT
    );
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL,
        event_seq INTEGER NOT NULL REFERENCES events(seq),
        event_id TEXT NOT NULL,
        body BLOB NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at TEXT,
        next_attempt_at TEXT NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        delivered_at TEXT,
        UNIQUE (url, event_seq)
    );
    CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
    """,
    # 3: what the signed VERP return path said about each bounce
    """
    ALTER TABLE bounces ADD COLUMN verp_recipient TEXT;
    ALTER TABLE bounces ADD COLUMN verified INTEGER;
    """,
    # 4: raw copies dropped after the retention period
    """
    ALTER TABLE messages ADD COLUMN pruned_at TEXT;
    CREATE INDEX messages_prunable ON messages(received_at) WHERE pruned_at IS NULL;
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the database's user_version; return the new version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return max(version, len(MIGRATIONS))
