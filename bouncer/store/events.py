"""The events table: every event written once, in the transaction of the change it describes.

`at` is the time an event describes (a report's receipt, the moment a timer became due);
`recorded_at` the time it was committed. Events are listed in commit order (`seq`), so a sweep
at a simulated time cannot reorder what real time wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database
from uuid6 import uuid7

from bouncer.clock import to_iso
from bouncer.store import days
from bouncer.store.query import where

COLUMNS = ("seq", "id", "type", "at", "recorded_at", "recipient", "data")


def add(
    db: Database,
    event_type: str,
    at: datetime,
    recipient: str | None,
    data: dict,
    recorded_at: datetime | None = None,
) -> dict:
    """Insert one event with a fresh id (32 hex digits, time-ordered); return it as a dict
    (as listed by `search`).

    `recorded_at` defaults to `at`; a `final_recipient` in data that differs from the recipient
    is indexed too, so the event is found by either address. Times in data are stored in the
    ISO form of `bouncer.clock`.
    """
    # A time-ordered id (RFC 9562 UUIDv7): the id index grows at its end, as seq does, instead
    # of taking each new id at a random page of a history of millions.
    event_id = uuid7().hex
    data = {name: to_iso(v) if isinstance(v, datetime) else v for name, v in data.items()}
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    final = data.get("final_recipient")
    keys = db.identity.keys(recipient, final)
    recorded = to_iso(recorded_at or at)
    seq = db.conn.execute(
        "INSERT INTO events (id, type, at, recorded_at, recipient, recipient_key, final_key, "
        "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        (event_id, event_type, to_iso(at), recorded, recipient, *keys, body),
    ).fetchone()[0]
    return {
        "seq": seq,
        "id": event_id,
        "type": event_type,
        "at": to_iso(at),
        "recorded_at": recorded,
        "recipient": recipient,
        **data,
    }


def add_many(db: Database, event_type: str, at: datetime, items: Iterable[tuple[str, dict]]) -> int:
    """Insert one event of a type per (recipient, data) item, all at `at`; return how many.

    The bulk form of `add` (same rows, recorded_at = at), for an import of many entries.
    """
    stamp = to_iso(at)
    rows = []
    for recipient, data in items:
        body = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
        final = data.get("final_recipient")
        keys = db.identity.keys(recipient, final)
        rows.append((uuid7().hex, event_type, stamp, stamp, recipient, *keys, body))
    db.conn.executemany(
        "INSERT INTO events (id, type, at, recorded_at, recipient, recipient_key, final_key, "
        "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def search(
    db: Database,
    *,
    event_type: str | None = None,
    since: str | None = None,
    after_seq: int = 0,
    recipient: str | None = None,
    limit: int = 1000,
    newest_first: bool = False,
) -> list[dict]:
    """Return up to `limit` events in commit order, each with its data fields merged in.

    `since` (ISO time) keeps events committed at or after it; `after_seq` those committed after
    that event; `recipient` matches the address an event is about or its final recipient.
    `newest_first`: the last events committed, the newest first (else the first ones after
    `after_seq`, the oldest first).
    """
    condition, params = where(
        ("seq > ?", after_seq or None),  # "seq > 0" would walk the whole table by seq
        ("type = ?", event_type),
        ("recorded_at >= ?", since),
    )
    order = "seq DESC" if newest_first else "seq"
    if recipient:  # an address has few events: all of them, sorted here
        rows = days.about(
            db,
            "events",
            "recorded_at",
            db.identity.key(recipient),
            select=", ".join(COLUMNS),
            since=since,
            condition=condition,
            params=params,
        )
        rows.sort(key=lambda row: row[0], reverse=newest_first)
        return [_flatten(row) for row in rows[:limit]]
    # A time window read by its index (then sorted): in seq order SQLite would walk every
    # event from the first to find the window.
    hint = "INDEXED BY events_recorded " if since and not after_seq else ""
    sql = f"SELECT {', '.join(COLUMNS)} FROM events {hint}WHERE {condition} ORDER BY {order}"
    sql += " LIMIT ?"
    return [_flatten(row) for row in db.conn.execute(sql, [*params, limit])]


def last_seq(db: Database) -> int:
    """Return the seq of the last event committed (0 when there is none)."""
    return db.conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0


def _flatten(row: tuple) -> dict:
    """Merge an event row's JSON data into its columns."""
    seq, event_id, event_type, at, recorded_at, recipient, data = row
    return {
        "seq": seq,
        "id": event_id,
        "type": event_type,
        "at": at,
        "recorded_at": recorded_at,
        "recipient": recipient,
        **json.loads(data),
    }


def seq_of(db: Database, event_id: str) -> int | None:
    """Return the commit position (seq) of the event with this id, or None."""
    row = db.conn.execute("SELECT seq FROM events WHERE id = ?", (event_id,)).fetchone()
    return row[0] if row else None
