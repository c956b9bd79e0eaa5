"""The suppression list: add or refresh, look up, list, remove, expire.

One row per address, keyed by `db.identity.key(address)`; `address` keeps the form the report or
the operator wrote, `final_recipient` the report's Final-Recipient when that differed (an alias).
A lookup finds an entry by either address.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.store.query import where

COLUMNS = (
    "address",
    "final_recipient",
    "reason",
    "class",
    "source",
    "first_seen",
    "last_seen",
    "count",
    "status",
    "diagnostic",
    "message_id",
    "expires_at",
    "note",
)
SOURCES = ("bounce", "complaint", "manual", "escalation", "expired")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM suppressions"
_ACTIVE = "(expires_at IS NULL OR expires_at > ?)"


@dataclass(frozen=True, slots=True)
class SuppressionRequest:
    """Ask for an address to be suppressed (expires_at None: until removed).

    `source`: bounce | complaint | manual | escalation (SOURCES; `expired` only in old rows).
    """

    address: str
    reason: str
    bounce_class: str
    source: str
    status: str | None = None
    diagnostic: str | None = None
    message_id: int | None = None
    expires_at: datetime | None = None
    note: str | None = None
    final_recipient: str | None = None


def _row(values: tuple) -> dict:
    """Turn a row in COLUMNS order into a dict."""
    return dict(zip(COLUMNS, values, strict=True))


def get(db: Database, address: str, now: datetime) -> dict | None:
    """Return the active suppression of an address (or of the alias it was about), or None."""
    key = db.identity.key(address)
    row = db.conn.execute(
        f"{_SELECT} WHERE (address_key = ? OR final_key = ?) AND {_ACTIVE} "
        "ORDER BY address_key = ? DESC LIMIT 1",
        (key, key, to_iso(now), key),
    ).fetchone()
    return _row(row) if row else None


def _own(db: Database, key: str, now: datetime) -> dict | None:
    """Return the active row stored under exactly this key."""
    row = db.conn.execute(
        f"{_SELECT} WHERE address_key = ? AND {_ACTIVE}", (key, to_iso(now))
    ).fetchone()
    return _row(row) if row else None


def upsert(db: Database, request: SuppressionRequest, now: datetime) -> bool:
    """Add or refresh a suppression; return True when the address was not suppressed before.

    The same report never counts twice (reprocessing changes nothing). An operator's entry
    keeps its reason and source, and a permanent entry is never downgraded by an expiring one:
    for those only last_seen and count move.
    """
    key = db.identity.key(request.address)
    existing = _own(db, key, now)
    if existing is None:
        _insert(db, key, request, now)
        return True
    if request.message_id is not None and existing["message_id"] == request.message_id:
        return False
    keeps = existing["source"] == "manual" and request.source != "manual"
    if keeps or (existing["expires_at"] is None and request.expires_at is not None):
        db.execute(
            "UPDATE suppressions SET last_seen = ?, count = count + 1 WHERE address_key = ?",
            (to_iso(now), key),
        )
        return False
    db.execute(
        "UPDATE suppressions SET address = ?, final_recipient = ?, final_key = ?, reason = ?, "
        "class = ?, source = ?, last_seen = ?, count = count + 1, status = ?, diagnostic = ?, "
        "message_id = ?, expires_at = ?, note = COALESCE(?, note) WHERE address_key = ?",
        (*_described(db, request), to_iso(now), *_evidence(request), request.note, key),
    )
    return False


def _insert(db: Database, key: str, request: SuppressionRequest, now: datetime) -> None:
    """Write a new row for the key (replacing an expired one)."""
    db.execute("DELETE FROM suppressions WHERE address_key = ?", (key,))
    db.execute(
        "INSERT INTO suppressions (address, final_recipient, final_key, reason, class, source, "
        "first_seen, last_seen, count, status, diagnostic, message_id, expires_at, note, "
        "address_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        (
            *_described(db, request),
            to_iso(now),
            to_iso(now),
            *_evidence(request),
            request.note,
            key,
        ),
    )


def _described(db: Database, request: SuppressionRequest) -> tuple:
    """Return address, final_recipient, final_key, reason, class, source of a request."""
    final = request.final_recipient
    final_key = db.identity.key(final) if final else None
    return (
        request.address,
        final,
        final_key,
        request.reason,
        request.bounce_class,
        request.source,
    )


def _evidence(request: SuppressionRequest) -> tuple:
    """Return status, diagnostic, message_id, expires_at of a request."""
    return (request.status, request.diagnostic, request.message_id, to_iso(request.expires_at))


def list_active(db: Database, now: datetime, limit: int | None = None) -> list[dict]:
    """Return active suppressions, most recently seen first."""
    sql = f"{_SELECT} WHERE {_ACTIVE} ORDER BY last_seen DESC, address_key"
    params: list = [to_iso(now)]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_row(row) for row in db.conn.execute(sql, params)]


def remove(db: Database, address: str, now: datetime) -> dict | None:
    """Delete the active suppression `get` finds for an address; return it, or None."""
    row = get(db, address, now)
    if row is None:
        return None
    db.execute("DELETE FROM suppressions WHERE address_key = ?", (db.identity.key(row["address"]),))
    return row


def take_expired(db: Database, now: datetime, limit: int = 1000) -> list[dict]:
    """Delete and return up to `limit` suppressions whose expiry has passed."""
    rows = db.conn.execute(
        f"SELECT address_key, {', '.join(COLUMNS)} FROM suppressions "
        "WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?",
        (to_iso(now), limit),
    ).fetchall()
    db.conn.executemany("DELETE FROM suppressions WHERE address_key = ?", [(r[0],) for r in rows])
    return [_row(row[1:]) for row in rows]


def caused_by(db: Database, message_id: int) -> list[str]:
    """Return the addresses whose suppression was last set by the given stored message."""
    rows = db.conn.execute(
        "SELECT address FROM suppressions WHERE message_id = ? "
        "AND source IN ('bounce', 'complaint')",
        (message_id,),
    )
    return [row[0] for row in rows]


def find_many(db: Database, addresses: Sequence[str], now: datetime) -> dict[str, dict]:
    """Return the active suppression of each address that has one, by the address as given.

    As `get` for each address (its own entry first, else the entry of an alias it was the
    final recipient of), in two queries whatever the number of addresses (each key looked up
    on its index).
    """
    keys = {address: db.identity.key(address) for address in addresses}
    wanted = json.dumps(sorted(set(keys.values())))
    found: dict[str, dict] = {}
    for column in ("final_key", "address_key"):  # own entries last: they win
        rows = db.conn.execute(
            f"SELECT {column}, {', '.join(COLUMNS)} FROM suppressions "
            f"WHERE {column} IN (SELECT value FROM json_each(?)) AND {_ACTIVE}",
            (wanted, to_iso(now)),
        )
        found.update((row[0], _row(row[1:])) for row in rows)
    return {address: found[key] for address, key in keys.items() if key in found}


def page(
    db: Database,
    now: datetime,
    *,
    reason: str | None = None,
    bounce_class: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> list[tuple[tuple[str, str], dict]]:
    """Return one page of active suppressions, newest first by when they were first seen.

    Each row comes with its position (first_seen, address_key): pass the last one as `after`
    for the next page. A row never moves (first_seen is set once), so pages neither repeat nor
    skip an entry while others are added or refreshed. `since`/`until` bound first_seen
    (stored ISO texts, until exclusive).
    """
    condition, params = where(
        ("reason = ?", reason),
        ("class = ?", bounce_class),
        ("first_seen >= ?", since),
        ("first_seen < ?", until),
    )
    if after:
        condition += " AND (first_seen, address_key) < (?, ?)"
        params.extend(after)
    sql = (
        f"SELECT first_seen, address_key, {', '.join(COLUMNS)} FROM suppressions "
        f"INDEXED BY suppressions_first WHERE {condition} AND {_ACTIVE} "
        "ORDER BY first_seen DESC, address_key DESC LIMIT ?"
    )
    rows = db.conn.execute(sql, [*params, to_iso(now), limit])
    return [((row[0], row[1]), _row(row[2:])) for row in rows]
