"""The events table: every event written once, in the transaction of the change it describes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.store.query import where

COLUMNS = ("seq", "id", "type", "at", "recipient", "data")


def add(db: Database, event_type: str, at: datetime, recipient: str | None, data: dict) -> dict:
    """Insert one event with a fresh id; return it as a dict (as listed by `search`)."""
    event_id = uuid.uuid4().hex
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    cursor = db.conn.execute(
        "INSERT INTO events (id, type, at, recipient, data) VALUES (?, ?, ?, ?, ?)",
        (event_id, event_type, to_iso(at), recipient, body),
    )
    return {
        "seq": cursor.lastrowid,
        "id": event_id,
        "type": event_type,
        "at": to_iso(at),
        "recipient": recipient,
        **data,
    }


def search(
    db: Database,
    *,
    event_type: str | None = None,
    since: str | None = None,
    after_seq: int = 0,
    recipient: str | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Return events in order of occurrence, each with its data fields merged in."""
    condition, params = where(
        ("seq > ?", after_seq),
        ("type = ?", event_type),
        ("at >= ?", since),
        ("recipient = ?", recipient),
    )
    sql = f"SELECT {', '.join(COLUMNS)} FROM events WHERE {condition} ORDER BY seq LIMIT ?"
    return [_flatten(row) for row in db.conn.execute(sql, [*params, limit])]


def _flatten(row: tuple) -> dict:
    """Merge an event row's JSON data into its columns."""
    seq, event_id, event_type, at, recipient, data = row
    return {
        "seq": seq,
        "id": event_id,
        "type": event_type,
        "at": at,
        "recipient": recipient,
        **json.loads(data),
    }
