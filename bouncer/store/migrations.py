"""The SQLite schema as numbered migrations (scripts run in order; the version is PRAGMA
user_version). `bouncer.store.schema.migrate` applies them; `bouncer.store.pg_schema` holds the
PostgreSQL form of each, at the same numbers. Scripts may call the SQL functions `migrate`
registers: address_key(), about_address(), bouncer_identity(), fingerprint_key_of()."""

from __future__ import annotations

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
    # 5: one identity per address (key columns; records about the address the application sent
    # to, the Final-Recipient kept beside it), duplicate reports, soft failures counted per
    # report, operators' changes, events with the time they were committed
    """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta (name, value) VALUES ('identity', bouncer_identity());

    ALTER TABLE messages ADD COLUMN fingerprint TEXT;
    CREATE INDEX messages_fingerprint ON messages(fingerprint) WHERE fingerprint IS NOT NULL;

    ALTER TABLE bounces ADD COLUMN final_recipient TEXT;
    ALTER TABLE bounces ADD COLUMN recipient_key TEXT;
    ALTER TABLE bounces ADD COLUMN final_key TEXT;
    UPDATE bounces SET final_recipient = recipient,
        recipient = about_address(recipient, original_recipient);
    UPDATE bounces SET recipient_key = address_key(recipient),
        final_key = address_key(final_recipient);
    DROP INDEX bounces_recipient;
    CREATE INDEX bounces_recipient ON bounces(recipient_key, received_at);
    CREATE INDEX bounces_final ON bounces(final_key, received_at);

    CREATE TABLE suppressions_v5 (
        address_key TEXT PRIMARY KEY,
        address TEXT NOT NULL,
        final_recipient TEXT,
        final_key TEXT,
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
    INSERT OR IGNORE INTO suppressions_v5 (address_key, address, reason, class, source,
        first_seen, last_seen, count, status, diagnostic, message_id, expires_at, note)
    SELECT address_key(address), address, reason, class, source, first_seen, last_seen, count,
        status, diagnostic, message_id, expires_at, note
    FROM suppressions ORDER BY expires_at IS NOT NULL, last_seen DESC;
    DROP TABLE suppressions;
    ALTER TABLE suppressions_v5 RENAME TO suppressions;
    CREATE INDEX suppressions_expiry ON suppressions(expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX suppressions_final ON suppressions(final_key) WHERE final_key IS NOT NULL;
    CREATE INDEX suppressions_message ON suppressions(message_id) WHERE message_id IS NOT NULL;

    CREATE TABLE suppression_changes (
        id INTEGER PRIMARY KEY,
        address_key TEXT NOT NULL,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        reason TEXT
    );
    CREATE INDEX suppression_changes_address ON suppression_changes(address_key, at);

    ALTER TABLE deferrals ADD COLUMN recipient_key TEXT;
    ALTER TABLE deferrals ADD COLUMN final_recipient TEXT;
    ALTER TABLE deferrals ADD COLUMN final_key TEXT;
    ALTER TABLE deferrals ADD COLUMN will_retry_until TEXT;
    ALTER TABLE deferrals ADD COLUMN last_attempt_at TEXT;
    UPDATE deferrals SET recipient_key = address_key(recipient);
    DROP INDEX deferrals_open;
    CREATE INDEX deferrals_open ON deferrals(recipient_key) WHERE closed_at IS NULL;
    CREATE INDEX deferrals_open_final ON deferrals(final_key)
        WHERE closed_at IS NULL AND final_key IS NOT NULL;
    CREATE INDEX deferrals_recipient ON deferrals(recipient_key, last_seen);

    DROP TABLE bounce_scores;
    CREATE TABLE soft_failures (
        id INTEGER PRIMARY KEY,
        address_key TEXT NOT NULL,
        day TEXT NOT NULL,
        message_id INTEGER,
        UNIQUE (address_key, message_id)
    );
    CREATE INDEX soft_failures_address ON soft_failures(address_key, day);
    CREATE INDEX soft_failures_day ON soft_failures(day);

    ALTER TABLE events ADD COLUMN recorded_at TEXT;
    ALTER TABLE events ADD COLUMN recipient_key TEXT;
    ALTER TABLE events ADD COLUMN final_key TEXT;
    UPDATE events SET recorded_at = at, recipient_key = address_key(recipient);
    DROP INDEX events_recipient;
    CREATE INDEX events_recipient ON events(recipient_key);
    CREATE INDEX events_final ON events(final_key) WHERE final_key IS NOT NULL;
    CREATE INDEX events_recorded ON events(recorded_at);
    """,
    # 6: costs that do not grow with the history: each open deferral's next due time (the
    # sweep reads only what is due); an index for every query that would scan (new and failed
    # messages, records by domain, listings newest first, deliveries by event and age)
    """
    ALTER TABLE deferrals ADD COLUMN due_at TEXT;
    CREATE INDEX deferrals_due ON deferrals(due_at) WHERE closed_at IS NULL;
    CREATE INDEX deferrals_final ON deferrals(final_key) WHERE final_key IS NOT NULL;
    CREATE INDEX deferrals_open_seen ON deferrals(last_seen) WHERE closed_at IS NULL;
    CREATE INDEX deferrals_seen ON deferrals(last_seen);
    CREATE INDEX deferrals_closed ON deferrals(closed_at) WHERE closed_at IS NOT NULL;
    DROP INDEX deferrals_started;
    CREATE INDEX messages_new ON messages(id) WHERE state = 'new';
    CREATE INDEX messages_failed ON messages(id) WHERE state = 'failed';
    CREATE INDEX bounces_domain
        ON bounces(substr(recipient_key, instr(recipient_key, '@') + 1), received_at);
    CREATE INDEX bounces_final_domain
        ON bounces(substr(final_key, instr(final_key, '@') + 1), received_at);
    CREATE INDEX suppressions_seen ON suppressions(last_seen, address_key, expires_at);
    CREATE INDEX deliveries_event ON deliveries(event_seq);
    CREATE INDEX deliveries_finished ON deliveries(COALESCE(delivered_at, next_attempt_at))
        WHERE state != 'pending';
    """,
    # 7: raw copies in their own table, deleted whole when pruned (a row shrunk in place frees
    # no page); copies stored before stay in messages.raw until pruned
    """
    CREATE TABLE raw_messages (message_id INTEGER PRIMARY KEY, raw BLOB NOT NULL);
    """,
    # 8: a record's or an event's final key only where it differs from the recipient's (most
    # Final-Recipients are the recipient): the final-key indexes hold those rows alone, and
    # writing a record touches two random index pages fewer
    """
    UPDATE bounces SET final_key = NULL WHERE final_key = recipient_key;
    UPDATE events SET final_key = NULL WHERE final_key = recipient_key;
    DROP INDEX bounces_final;
    CREATE INDEX bounces_final ON bounces(final_key, received_at) WHERE final_key IS NOT NULL;
    DROP INDEX bounces_final_domain;
    CREATE INDEX bounces_final_domain
        ON bounces(substr(final_key, instr(final_key, '@') + 1), received_at)
        WHERE final_key IS NOT NULL;
    """,
    # 9: the HTTP API's listings, each page read from an index in its order: suppressions by
    # when they were first seen (a row never moves: pages stay stable while entries are
    # added or refreshed), bounce records by reason, return path, original Message-ID, and by
    # time; the class and kind filters are in the reason and time indexes, so a page that
    # skips many records reads only the index; the time index holds class and kind now, and
    # replaces the one on time alone
    """
    CREATE INDEX suppressions_first ON suppressions(first_seen, address_key, expires_at,
        reason, class);
    CREATE INDEX bounces_reason ON bounces(reason, received_at, class, kind);
    CREATE INDEX bounces_sender ON bounces(lower(bounce_address), received_at);
    CREATE INDEX bounces_orig_message ON bounces(orig_message_id)
        WHERE orig_message_id IS NOT NULL;
    CREATE INDEX bounces_listing ON bounces(received_at, class, kind);
    DROP INDEX bounces_received;
    """,
    # 10: alerts: failures counted per scope (all, domain:, reason:, provider:) and bucket start,
    # pruned past the longest window; alert episodes (one open per scope), kept as long as the
    # records whose suppression they held back
    """
    CREATE TABLE failure_counts (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        start TEXT NOT NULL,
        n INTEGER NOT NULL,
        UNIQUE (scope, start)
    );
    CREATE INDEX failure_counts_start ON failure_counts(start);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        type TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        count INTEGER NOT NULL,
        peak INTEGER NOT NULL,
        event_id TEXT NOT NULL DEFAULT '',
        ended_at TEXT
    );
    CREATE UNIQUE INDEX alerts_open ON alerts(scope) WHERE ended_at IS NULL;
    CREATE INDEX alerts_scope ON alerts(scope, opened_at);
    CREATE INDEX alerts_unchecked ON alerts(checked_at) WHERE ended_at IS NULL;
    CREATE INDEX alerts_ended ON alerts(ended_at) WHERE ended_at IS NOT NULL;
    """,
    # 11: copies of a report are looked for among the messages received on the days before it
    # (bouncer.store.inbox.COPY_WINDOW_DAYS), by a 64-bit key of the fingerprint: the index is
    # ordered by day first, so its lookups and inserts stay in the last days' pages however
    # long the history (one on the 64 hex digits took a random page of all history each time)
    """
    ALTER TABLE messages ADD COLUMN fingerprint_key INTEGER;
    UPDATE messages SET fingerprint_key = fingerprint_key_of(fingerprint)
        WHERE fingerprint IS NOT NULL;
    DROP INDEX messages_fingerprint;
    CREATE INDEX messages_by_fingerprint ON messages(substr(received_at, 1, 10), fingerprint_key)
        WHERE fingerprint_key IS NOT NULL;
    """,
    # 12: a message's key from a node's local spool (bouncer.daemon.spool): unique where
    # given, so a spooled message forwarded twice (a crash between the shared store's commit
    # and the spool's delete) is stored once
    """
    ALTER TABLE messages ADD COLUMN spool_key TEXT;
    CREATE UNIQUE INDEX messages_spool ON messages(spool_key) WHERE spool_key IS NOT NULL;
    """,
    # 13: the indexes by address, domain, return path and Message-ID begin with the UTC day of
    # the record (of the last report, for deferrals; bouncer.store.days): an insert lands in
    # today's pages, not at a random page of an index as large as the history (about 50 µs an
    # index at a million stored messages); a lookup seeks once per day kept
    """
    DROP INDEX bounces_recipient;
    DROP INDEX bounces_final;
    DROP INDEX bounces_domain;
    DROP INDEX bounces_final_domain;
    DROP INDEX bounces_orig_message;
    DROP INDEX events_recipient;
    DROP INDEX events_final;
    DROP INDEX bounces_sender;
    DROP INDEX deferrals_recipient;
    CREATE INDEX bounces_recipient
        ON bounces(substr(received_at, 1, 10), recipient_key, received_at);
    CREATE INDEX bounces_final ON bounces(substr(received_at, 1, 10), final_key, received_at)
        WHERE final_key IS NOT NULL;
    CREATE INDEX bounces_domain ON bounces(substr(received_at, 1, 10),
        substr(recipient_key, instr(recipient_key, '@') + 1), received_at);
    CREATE INDEX bounces_final_domain ON bounces(substr(received_at, 1, 10),
        substr(final_key, instr(final_key, '@') + 1), received_at)
        WHERE final_key IS NOT NULL;
    CREATE INDEX bounces_orig_message ON bounces(substr(received_at, 1, 10), orig_message_id)
        WHERE orig_message_id IS NOT NULL;
    CREATE INDEX events_recipient ON events(substr(recorded_at, 1, 10), recipient_key);
    CREATE INDEX events_final ON events(substr(recorded_at, 1, 10), final_key)
        WHERE final_key IS NOT NULL;
    CREATE INDEX bounces_sender
        ON bounces(substr(received_at, 1, 10), lower(bounce_address), received_at);
    CREATE INDEX deferrals_recipient
        ON deferrals(substr(last_seen, 1, 10), recipient_key, last_seen);
    """,
    # 14: return paths with a subaddress (RFC 5233: `bounces+tag@d`, as every signed VERP
    # return path is) by the address without it, day first: a search for `bounces@d` finds the
    # reports that came back to any `bounces+...@d`; the index holds only such return paths
    """
    CREATE INDEX bounces_subaddress ON bounces(substr(received_at, 1, 10),
        lower(substr(bounce_address, 1, instr(bounce_address, '+') - 1)
            || substr(bounce_address, instr(bounce_address, '@'))), received_at)
        WHERE instr(bounce_address, '+') BETWEEN 1 AND instr(bounce_address, '@');
    """,
)
