"""A node's local spool: received messages kept in a SQLite file of the store's own schema
while the shared store (PostgreSQL) cannot be reached, then forwarded to it.

A spooled message is an ordinary `messages` row in state 'new' (with its `raw_messages` row),
written by `inbox.insert_batch` with its `spool_key` (a UUID given at receipt). Forwarding
inserts it into the shared store as a new message, keeping what intake wrote (receipt time,
envelope, peer, size, raw copy, key), with `ON CONFLICT (spool_key) DO NOTHING`; the caller
commits that, then deletes it from the spool (`remove`). A crash between the two leaves a row
that the next pass inserts as a no-op and deletes: each message arrives exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database
from uuid6 import uuid7


@dataclass(frozen=True, slots=True)
class Spooled:
    """A message as the spool holds it: its id in the spool and the columns intake wrote."""

    spool_id: int
    received_at: str
    mail_from: str
    rcpt_to: str  # JSON text, as stored
    peer: str | None
    size: int
    raw: bytes
    spool_key: str


def new_key() -> str:
    """Return a new spool key: an RFC 9562 version 7 UUID (as the event ids), whose first 48
    bits are the time in milliseconds, so keys given later sort later and the shared store's
    index on them grows at its right edge."""
    return str(uuid7())


_TAKE = (
    "SELECT m.id, m.received_at, m.mail_from, m.rcpt_to, m.peer, m.size, "
    "COALESCE(r.raw, m.raw), m.spool_key "
    "FROM messages m LEFT JOIN raw_messages r ON r.message_id = m.id "
    "WHERE m.state = 'new' ORDER BY m.id LIMIT ?"
)


def take(spool: Database, limit: int = 200) -> list[Spooled]:
    """Return up to `limit` spooled messages, oldest first (read only: `remove` deletes)."""
    return [
        Spooled(row[0], row[1], row[2], row[3], row[4], row[5], bytes(row[6]), row[7])
        for row in spool.conn.execute(_TAKE, (limit,))
    ]


def waiting(spool: Database) -> int:
    """Return how many messages the spool holds."""
    return spool.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'new'").fetchone()[0]


_FORWARD = (
    "INSERT INTO messages (received_at, mail_from, rcpt_to, peer, size, raw, spool_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (spool_key) WHERE spool_key IS NOT NULL DO NOTHING RETURNING id"
)


def forward(db: Database, items: Sequence[Spooled]) -> int:
    """Insert spooled messages into the shared store as new messages, in one committed
    transaction (on PostgreSQL without the writers' lock, as intake's inserts); a message
    whose key is there already is skipped. Return how many were inserted."""
    inserted = 0
    with db.atomic(alone=False):
        for item in items:
            row = (
                item.received_at,
                item.mail_from,
                item.rcpt_to,
                item.peer,
                item.size,
                b"",
                item.spool_key,
            )
            found = db.conn.execute(_FORWARD, row).fetchone()
            if found is not None:
                db.conn.execute(
                    "INSERT INTO raw_messages (message_id, raw) VALUES (?, ?)", (found[0], item.raw)
                )
                inserted += 1
    return inserted


def remove(spool: Database, items: Sequence[Spooled]) -> None:
    """Delete forwarded messages from the spool, in one transaction."""
    ids = [item.spool_id for item in items]
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    with spool.atomic():
        spool.conn.execute(f"DELETE FROM raw_messages WHERE message_id IN ({marks})", ids)
        spool.conn.execute(f"DELETE FROM messages WHERE id IN ({marks})", ids)
