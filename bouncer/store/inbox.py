"""Raw received messages: insert (batched), find unprocessed, mark processed or failed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.store.query import where


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as received over SMTP, before it is stored."""

    received_at: datetime
    mail_from: str
    rcpt_to: tuple[str, ...]
    peer: str | None
    raw: bytes


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
    "INSERT INTO messages (received_at, mail_from, rcpt_to, peer, size, raw) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
)
_COLUMNS = "id, received_at, mail_from, rcpt_to, raw, state"


def insert_batch(db: Database, batch: Sequence[Incoming]) -> list[int]:
    """Insert messages in one committed transaction; return their ids in order."""
    ids = []
    with db.atomic():
        for item in batch:
            row = (
                to_iso(item.received_at),
                item.mail_from,
                json.dumps(list(item.rcpt_to)),
                item.peer,
                len(item.raw),
                item.raw,
            )
            ids.append(db.conn.execute(_INSERT, row).fetchone()[0])
    return ids


def _message(row: tuple) -> StoredMessage:
    """Build a StoredMessage from a row in _COLUMNS order."""
    return StoredMessage(row[0], row[1], row[2], tuple(json.loads(row[3])), bytes(row[4]), row[5])


def unprocessed(db: Database, limit: int = 100) -> list[StoredMessage]:
    """Return up to limit messages still in state 'new', oldest first."""
    sql = f"SELECT {_COLUMNS} FROM messages WHERE state = 'new' ORDER BY id LIMIT ?"
    return [_message(row) for row in db.conn.execute(sql, (limit,))]


def select_for_reprocess(
    db: Database,
    *,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    failed_only: bool = False,
) -> Iterator[StoredMessage]:
    """Yield stored messages matching the filters, oldest first."""
    condition, params = where(
        ("kind = ?", kind),
        ("received_at >= ?", since),
        ("received_at < ?", until),
        ("state = 'failed'", failed_only),
        ("pruned_at IS NULL", True),
    )
    sql = f"SELECT {_COLUMNS} FROM messages WHERE {condition} ORDER BY id"
    for row in db.conn.execute(sql, params).fetchall():
        yield _message(row)


def mark_processed(
    db: Database, message_id: int, kind: str, at: datetime, fingerprint: str | None = None
) -> None:
    """Record that a message was processed, what kind of report it was, and its fingerprint."""
    db.execute(
        "UPDATE messages SET state = 'processed', kind = ?, error = NULL, processed_at = ?, "
        "fingerprint = COALESCE(?, fingerprint) WHERE id = ?",
        (kind, to_iso(at), fingerprint, message_id),
    )


def first_copy(db: Database, fingerprint: str) -> int | None:
    """Return the id of the first processed message with this fingerprint, or None."""
    row = db.conn.execute(
        "SELECT MIN(id) FROM messages WHERE fingerprint = ?", (fingerprint,)
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
    """Drop the raw copy of processed messages received before a time; return how many."""
    cursor = db.conn.execute(
        "UPDATE messages SET raw = x'', pruned_at = ? WHERE id IN (SELECT id FROM messages "
        "WHERE pruned_at IS NULL AND state = 'processed' AND received_at < ? "
        "ORDER BY received_at LIMIT ?)",
        (to_iso(now), to_iso(received_before), limit),
    )
    return cursor.rowcount
