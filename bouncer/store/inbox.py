"""Raw received messages: insert (batched), find unprocessed, mark processed or failed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.store import days
from bouncer.store.query import where
from bouncer.store.schema import fingerprint_key


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as received over SMTP, before it is stored; `spool_key`: its key when it
    may also be in a node's local spool (PostgreSQL: bouncer.store.spool), else None."""

    received_at: datetime
    mail_from: str
    rcpt_to: tuple[str, ...]
    peer: str | None
    raw: bytes
    spool_key: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A stored raw message with its envelope."""

    id: int
    received_at: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes
    state: str


_INSERT = (
    "INSERT INTO messages (received_at, mail_from, rcpt_to, peer, size, raw, spool_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
# Days before a report's receipt on which a copy of it is looked for (bouncer.store.inbox
# first_copy): the longest common MTA queue lifetime (qmail's 7 days) and one more.
COPY_WINDOW_DAYS = 8
_INSERT_RAW = "INSERT INTO raw_messages (message_id, raw) VALUES (?, ?)"
# A raw copy lives in raw_messages (deleted whole when pruned); copies stored before that table
# existed stay in messages.raw until they are pruned.
_COLUMNS = "m.id, m.received_at, m.mail_from, m.rcpt_to, COALESCE(r.raw, m.raw), m.state"
_FROM = "messages m LEFT JOIN raw_messages r ON r.message_id = m.id"


def insert_batch(db: Database, batch: Sequence[Incoming]) -> list[int]:
    """Insert messages in one committed transaction; return their ids in order.

    On PostgreSQL it does not wait for the other writers' lock: nothing reads a new message
    before processing claims it, under that lock (`still_new`)."""
    ids = []
    with db.atomic(alone=False):
        for item in batch:
            row = (
                to_iso(item.received_at),
                item.mail_from,
                json.dumps(list(item.rcpt_to)),
                item.peer,
                len(item.raw),
                b"",  # the raw copy goes to raw_messages
                item.spool_key,
            )
            message_id = db.conn.execute(_INSERT, row).fetchone()[0]
            db.conn.execute(_INSERT_RAW, (message_id, item.raw))
            ids.append(message_id)
    return ids


def raw_of(db: Database, message_id: int) -> bytes | None:
    """Return a stored message's raw copy (b'' once pruned; None: no such message)."""
    row = db.conn.execute(
        f"SELECT COALESCE(r.raw, m.raw) FROM {_FROM} WHERE m.id = ?", (message_id,)
    ).fetchone()
    return None if row is None else bytes(row[0])


def _message(row: tuple) -> StoredMessage:
    """Build a StoredMessage from a row in _COLUMNS order."""
    return StoredMessage(row[0], row[1], row[2], tuple(json.loads(row[3])), bytes(row[4]), row[5])


def unprocessed(db: Database, limit: int = 100) -> list[StoredMessage]:
    """Return up to limit messages still in state 'new', oldest first."""
    sql = f"SELECT {_COLUMNS} FROM {_FROM} WHERE m.state = 'new' ORDER BY m.id LIMIT ?"
    return [_message(row) for row in db.conn.execute(sql, (limit,))]


def still_new(db: Database, ids: Sequence[int]) -> set[int]:
    """Return those of the given message ids still in state 'new' (read in the caller's
    transaction: a processor claims its batch this way, so a message another process has
    processed meanwhile is not processed twice)."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    sql = f"SELECT id FROM messages WHERE state = 'new' AND id IN ({marks})"
    return {row[0] for row in db.conn.execute(sql, list(ids))}


def select_for_reprocess(
    db: Database,
    *,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    failed_only: bool = False,
    page: int = 200,
) -> Iterator[StoredMessage]:
    """Yield stored messages matching the filters (raw copy kept), oldest first.

    Read `page` messages at a time by id, no cursor held between pages: memory stays flat
    and the caller may write between them.
    """
    condition, params = _reprocess_filter(kind, since, until, failed_only)
    sql = f"SELECT {_COLUMNS} FROM {_FROM} WHERE {condition} AND m.id > ? ORDER BY m.id LIMIT ?"
    after = 0
    while rows := db.conn.execute(sql, [*params, after, page]).fetchall():
        for row in rows:
            yield _message(row)
        after = rows[-1][0]


def count_for_reprocess(
    db: Database,
    *,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    failed_only: bool = False,
) -> int:
    """Count the messages select_for_reprocess would yield."""
    condition, params = _reprocess_filter(kind, since, until, failed_only)
    sql = f"SELECT COUNT(*) FROM messages m WHERE {condition}"
    return db.conn.execute(sql, params).fetchone()[0]


def _reprocess_filter(
    kind: str | None, since: str | None, until: str | None, failed_only: bool
) -> tuple[str, list]:
    """Return the WHERE condition (on `m`) and parameters of a reprocess selection."""
    return where(
        ("m.kind = ?", kind),
        ("m.received_at >= ?", since),
        ("m.received_at < ?", until),
        ("m.state = 'failed'", failed_only),
        ("m.pruned_at IS NULL", True),
    )


def mark_processed(
    db: Database, message_id: int, kind: str, at: datetime, fingerprint: str | None = None
) -> None:
    """Record that a message was processed, what kind of report it was, and its fingerprint
    (hex, bouncer.core.dsn.fingerprint) with the key it is looked up by."""
    key = None if fingerprint is None else fingerprint_key(fingerprint)
    db.execute(
        "UPDATE messages SET state = 'processed', kind = ?, error = NULL, processed_at = ?, "
        "fingerprint = COALESCE(?, fingerprint), fingerprint_key = COALESCE(?, fingerprint_key) "
        "WHERE id = ?",
        (kind, to_iso(at), fingerprint, key, message_id),
    )


def first_copy(db: Database, fingerprint: str, received_at: datetime) -> int | None:
    """Return the id of the first processed message with this fingerprint received on the day
    of `received_at` or the COPY_WINDOW_DAYS (UTC) days before it, or None.

    A copy is the same report delivered again: an MTA resending after a lost 250 does so
    within its queue lifetime (Postfix and sendmail 5 days, Exim 4, qmail 7), a report routed
    twice within minutes. Looking only there keeps the lookup in the last days' part of the
    index however long the history; a copy arriving later still is processed as a report of
    its own. Found by the fingerprint's 64-bit key, confirmed on the whole fingerprint.
    """
    day = received_at.astimezone(UTC).date()
    window = [(day - timedelta(days=back)).isoformat() for back in range(COPY_WINDOW_DAYS + 1)]
    marks = ", ".join("?" * len(window))
    row = db.conn.execute(
        f"SELECT MIN(id) FROM messages WHERE {days.day_of('received_at')} IN ({marks}) "
        "AND fingerprint_key = ? AND fingerprint = ?",
        (*window, fingerprint_key(fingerprint), fingerprint),
    ).fetchone()
    return row[0] if row else None


def mark_failed(db: Database, message_id: int, error: str, at: datetime) -> None:
    """Record that processing a message failed; the raw copy stays for `bouncer reprocess`."""
    with db.atomic():
        db.execute(
            "UPDATE messages SET state = 'failed', error = ?, processed_at = ? WHERE id = ?",
            (error[:2000], to_iso(at), message_id),
        )


def prune_raw(db: Database, received_before: datetime, now: datetime, limit: int = 1000) -> int:
    """Drop the raw copy of up to `limit` processed messages received before a time (their
    rows in raw_messages deleted whole); return how many."""
    ids = [
        row[0]
        for row in db.conn.execute(
            "SELECT id FROM messages WHERE pruned_at IS NULL AND state = 'processed' "
            "AND received_at < ? ORDER BY received_at LIMIT ?",
            (to_iso(received_before), limit),
        )
    ]
    if not ids:
        return 0
    marks = ",".join("?" * len(ids))
    db.conn.execute(f"DELETE FROM raw_messages WHERE message_id IN ({marks})", ids)
    return db.conn.execute(
        f"UPDATE messages SET raw = ?, pruned_at = ? WHERE id IN ({marks})",
        [b"", to_iso(now), *ids],
    ).rowcount


MESSAGE_COLUMNS = (
    "id",
    "received_at",
    "mail_from",
    "rcpt_to",
    "peer",
    "size",
    "state",
    "kind",
    "error",
    "processed_at",
    "pruned_at",
)


def message(db: Database, message_id: int) -> dict | None:
    """Return a stored message's envelope and state (not its raw copy: `raw_of`), or None."""
    row = db.conn.execute(
        f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages WHERE id = ?", (message_id,)
    ).fetchone()
    if row is None:
        return None
    found = dict(zip(MESSAGE_COLUMNS, row, strict=True))
    found["rcpt_to"] = json.loads(found["rcpt_to"])
    return found
