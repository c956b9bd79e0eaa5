"""Operators' changes to the suppression list: who, when and why, kept for good.

The latest removal of an address bounds the evidence that may suppress it again: a report
received before it (a reprocess, a late duplicate) never undoes the operator's word.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import from_iso, to_iso

ACTIONS = ("added", "removed")
COLUMNS = ("address", "action", "at", "by", "reason")


def record(
    db: Database, address: str, action: str, at: datetime, by: str, reason: str | None
) -> None:
    """Store one manual change (`action`: added | removed) made by `by` for `reason`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown suppression change {action!r}")
    db.execute(
        "INSERT INTO suppression_changes (address_key, address, action, at, by, reason) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (db.identity.key(address), address, action, to_iso(at), by, reason),
    )


def record_many(
    db: Database, action: str, at: datetime, by: str, reason: str | None, addresses: Iterable[str]
) -> None:
    """Store the same manual change (`action`) for many addresses at once (a bulk import)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown suppression change {action!r}")
    stamp = to_iso(at)
    db.conn.executemany(
        "INSERT INTO suppression_changes (address_key, address, action, at, by, reason) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ((db.identity.key(a), a, action, stamp, by, reason) for a in addresses),
    )


def removed_at(db: Database, address: str) -> datetime | None:
    """Return when an operator last removed the address's suppression, or None."""
    row = db.conn.execute(
        "SELECT MAX(at) FROM suppression_changes WHERE address_key = ? AND action = 'removed'",
        (db.identity.key(address),),
    ).fetchone()
    return from_iso(row[0]) if row else None


def history(db: Database, address: str) -> list[dict]:
    """Return the address's manual changes, oldest first."""
    rows = db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM suppression_changes WHERE address_key = ? "
        "ORDER BY at, id",
        (db.identity.key(address),),
    )
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]
