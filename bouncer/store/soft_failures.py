"""Soft failures counted toward escalation: one row per address and report (counted once)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlite_utils import Database

from bouncer.store.dialect import among


def add(db: Database, address: str, day: date, message_id: int | None) -> None:
    """Count a soft failure of the address on `day`; the same report counts once."""
    db.execute(
        "INSERT INTO soft_failures (address_key, day, message_id) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (db.identity.key(address), day.isoformat(), message_id),
    )


def days(db: Database, address: str, since: date) -> frozenset[date]:
    """Return the distinct days on or after `since` with a counted soft failure."""
    rows = db.conn.execute(
        "SELECT DISTINCT day FROM soft_failures WHERE address_key = ? AND day >= ?",
        (db.identity.key(address), since.isoformat()),
    )
    return frozenset(date.fromisoformat(row[0]) for row in rows)


def reset(db: Database, address: str) -> None:
    """Forget the address's counted soft failures (after an escalation, delivery or removal)."""
    db.execute("DELETE FROM soft_failures WHERE address_key = ?", (db.identity.key(address),))


def prune(db: Database, before: date, limit: int = 1000) -> int:
    """Delete up to `limit` rows older than `before` (outside every window); return how many."""
    ids = among(db.dialect, "SELECT id FROM soft_failures WHERE day < ? LIMIT ?")
    cursor = db.execute(
        f"DELETE FROM soft_failures WHERE id {ids}",
        (before.isoformat(), limit),
    )
    return cursor.rowcount


def window_start(today: date, window: timedelta) -> date:
    """Return the first day of an escalation window ending on `today`."""
    return today - window + timedelta(days=1)
