"""Deferrals and bounce scores: load the open ones, save state, list them for operators."""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from bouncer.addresses import normalize
from bouncer.clock import from_iso, to_iso
from bouncer.model import Original
from bouncer.store.query import where
from bouncer.tracker import BounceScore, Deferral

COLUMNS = (
    "id",
    "recipient",
    "key",
    "opened_at",
    "started_at",
    "last_seen",
    "attempts",
    "last_status",
    "last_diagnostic",
    "last_reason",
    "orig_message_id",
    "orig_from",
    "orig_to",
    "orig_subject",
    "orig_date",
    "warned_at",
    "closed_at",
    "close_reason",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM deferrals"


def _deferral(row: tuple) -> tuple[int, Deferral]:
    """Build (row id, Deferral) from a row in COLUMNS order."""
    values = dict(zip(COLUMNS, row, strict=True))
    original = Original(
        values["orig_message_id"],
        values["orig_from"],
        values["orig_to"],
        values["orig_subject"],
        values["orig_date"],
    )
    return values["id"], Deferral(
        recipient=values["recipient"],
        key=values["key"],
        opened_at=from_iso(values["opened_at"]),
        started_at=from_iso(values["started_at"]),
        last_seen=from_iso(values["last_seen"]),
        attempts=values["attempts"],
        last_status=values["last_status"],
        last_diagnostic=values["last_diagnostic"],
        last_reason=values["last_reason"],
        original=original,
        warned_at=from_iso(values["warned_at"]),
        closed_at=from_iso(values["closed_at"]),
        close_reason=values["close_reason"],
    )


def open_for(db: Database, recipient: str) -> list[tuple[int, Deferral]]:
    """Return the recipient's open deferrals with their row ids."""
    rows = db.conn.execute(
        f"{_SELECT} WHERE closed_at IS NULL AND recipient = ?", (normalize(recipient),)
    )
    return [_deferral(row) for row in rows]


def all_open(db: Database) -> list[tuple[int, Deferral]]:
    """Return every open deferral with its row id, oldest first."""
    rows = db.conn.execute(f"{_SELECT} WHERE closed_at IS NULL ORDER BY started_at, id")
    return [_deferral(row) for row in rows]


def save(db: Database, row_id: int | None, deferral: Deferral) -> int:
    """Insert (row_id None) or update a deferral; return its row id."""
    original = deferral.original
    values = (
        deferral.recipient,
        deferral.key,
        to_iso(deferral.opened_at),
        to_iso(deferral.started_at),
        to_iso(deferral.last_seen),
        deferral.attempts,
        deferral.last_status,
        deferral.last_diagnostic,
        deferral.last_reason,
        original.message_id,
        original.from_addr,
        original.to,
        original.subject,
        original.date,
        to_iso(deferral.warned_at),
        to_iso(deferral.closed_at),
        deferral.close_reason,
    )
    names = COLUMNS[1:]
    if row_id is None:
        sql = f"INSERT INTO deferrals ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        return db.conn.execute(sql, values).lastrowid
    assignments = ", ".join(f"{name} = ?" for name in names)
    db.conn.execute(f"UPDATE deferrals SET {assignments} WHERE id = ?", (*values, row_id))
    return row_id


def listing(
    db: Database, *, open_only: bool = False, recipient: str | None = None, limit: int = 1000
) -> list[dict]:
    """Return deferrals as dicts, most recently seen first."""
    condition, params = where(
        ("closed_at IS NULL", open_only),
        ("recipient = ?", normalize(recipient) if recipient else None),
    )
    sql = f"{_SELECT} WHERE {condition} ORDER BY last_seen DESC, id DESC LIMIT ?"
    return [dict(zip(COLUMNS, row, strict=True)) for row in db.conn.execute(sql, [*params, limit])]


def get_score(db: Database, recipient: str) -> BounceScore | None:
    """Return the recipient's bounce score, or None when it has none."""
    row = db.conn.execute(
        "SELECT score, last_day FROM bounce_scores WHERE recipient = ?", (recipient,)
    ).fetchone()
    if row is None:
        return None
    return BounceScore(row[0], date.fromisoformat(row[1]) if row[1] else None)


def save_score(db: Database, recipient: str, score: BounceScore) -> None:
    """Store the recipient's bounce score."""
    last_day = score.last_day.isoformat() if score.last_day else None
    db.conn.execute(
        "INSERT INTO bounce_scores (recipient, score, last_day) VALUES (?, ?, ?) "
        "ON CONFLICT(recipient) DO UPDATE SET score = excluded.score, "
        "last_day = excluded.last_day",
        (recipient, score.score, last_day),
    )
