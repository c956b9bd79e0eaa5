"""The suppression list: add or refresh, look up, list, remove, expire."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlite_utils import Database

from bouncer.addresses import normalize
from bouncer.clock import to_iso

COLUMNS = (
    "address",
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


@dataclass(frozen=True, slots=True)
class SuppressionRequest:
    """Ask for an address to be suppressed (expires_at None: until removed)."""

    address: str
    reason: str
    bounce_class: str
    source: str  # bounce | complaint | manual | expired | escalation
    status: str | None = None
    diagnostic: str | None = None
    message_id: int | None = None
    expires_at: datetime | None = None
    note: str | None = None


def _row(values: tuple) -> dict:
    """Turn a row in COLUMNS order into a dict."""
    return dict(zip(COLUMNS, values, strict=True))


def get(db: Database, address: str, now: datetime) -> dict | None:
    """Return the active suppression for an address, or None (expired ones are not active)."""
    row = db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM suppressions WHERE address = ? "
        "AND (expires_at IS NULL OR expires_at > ?)",
        (normalize(address), to_iso(now)),
    ).fetchone()
    return _row(row) if row else None


def upsert(db: Database, request: SuppressionRequest, now: datetime) -> bool:
    """Add or refresh a suppression; return True when the address was not suppressed before.

    A permanent suppression (no expiry) is never downgraded by a later expiring one: only its
    last_seen and count move.
    """
    key = normalize(request.address)
    existing = get(db, key, now)
    if existing is None:
        db.execute("DELETE FROM suppressions WHERE address = ?", (key,))
        db.execute(
            f"INSERT INTO suppressions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 12)})",
            (
                key,
                request.reason,
                request.bounce_class,
                request.source,
                to_iso(now),
                to_iso(now),
                1,
                request.status,
                request.diagnostic,
                request.message_id,
                to_iso(request.expires_at),
                request.note,
            ),
        )
        return True
    if existing["expires_at"] is None and request.expires_at is not None:
        db.execute(
            "UPDATE suppressions SET last_seen = ?, count = count + 1 WHERE address = ?",
            (to_iso(now), key),
        )
        return False
    fields = asdict(request)
    db.execute(
        "UPDATE suppressions SET reason = ?, class = ?, source = ?, last_seen = ?, "
        "count = count + 1, status = ?, diagnostic = ?, message_id = ?, expires_at = ?, "
        "note = COALESCE(?, note) WHERE address = ?",
        (
            request.reason,
            request.bounce_class,
            request.source,
            to_iso(now),
            fields["status"],
            request.diagnostic,
            request.message_id,
            to_iso(request.expires_at),
            request.note,
            key,
        ),
    )
    return False


def list_active(db: Database, now: datetime, limit: int | None = None) -> list[dict]:
    """Return active suppressions, most recently seen first."""
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM suppressions "
        "WHERE expires_at IS NULL OR expires_at > ? ORDER BY last_seen DESC, address"
    )
    params: list = [to_iso(now)]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_row(row) for row in db.conn.execute(sql, params)]


def remove(db: Database, address: str) -> dict | None:
    """Delete a suppression; return the removed row, or None when there was none."""
    key = normalize(address)
    row = db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM suppressions WHERE address = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    db.execute("DELETE FROM suppressions WHERE address = ?", (key,))
    return _row(row)


def take_expired(db: Database, now: datetime) -> list[dict]:
    """Delete and return suppressions whose expiry has passed."""
    rows = db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM suppressions "
        "WHERE expires_at IS NOT NULL AND expires_at <= ?",
        (to_iso(now),),
    ).fetchall()
    db.conn.executemany("DELETE FROM suppressions WHERE address = ?", [(r[0],) for r in rows])
    return [_row(row) for row in rows]


def caused_by(db: Database, message_id: int) -> list[str]:
    """Return the addresses whose suppression was last set by the given stored message."""
    rows = db.conn.execute(
        "SELECT address FROM suppressions WHERE message_id = ? "
        "AND source IN ('bounce', 'complaint')",
        (message_id,),
    )
    return [row[0] for row in rows]
