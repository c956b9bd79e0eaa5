"""Deferrals: load the open ones of an address, save state, list them for operators.

Rows are keyed by the address the deferral is about (`recipient_key`) and by its report's
Final-Recipient when that differs (`final_key`); lookups find a deferral by either.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import from_iso, to_iso
from bouncer.core.model import Original
from bouncer.core.tracker import Deferral
from bouncer.store import days
from bouncer.store.dialect import among

COLUMNS = (
    "id",
    "recipient",
    "final_recipient",
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
    "will_retry_until",
    "last_attempt_at",
    "warned_at",
    "closed_at",
    "close_reason",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM deferrals"
_TIMES = ("opened_at", "started_at", "last_seen", "will_retry_until", "last_attempt_at")
_STAMPS = ("warned_at", "closed_at")


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
        attempts=values["attempts"],
        last_status=values["last_status"],
        last_diagnostic=values["last_diagnostic"],
        last_reason=values["last_reason"],
        original=original,
        final_recipient=values["final_recipient"],
        last_attempt=from_iso(values["last_attempt_at"]),
        close_reason=values["close_reason"],
        **{name: from_iso(values[name]) for name in _TIMES if name != "last_attempt_at"},
        **{name: from_iso(values[name]) for name in _STAMPS},
    )


def open_for(db: Database, *addresses: str) -> list[tuple[int, Deferral]]:
    """Return the open deferrals about any of the addresses (or with it as final recipient)."""
    keys = sorted({db.identity.key(address) for address in addresses if address})
    return sorted((_deferral(row) for row in _open_rows(db, keys)), key=lambda pair: pair[0])


def _open_rows(db: Database, keys: list[str]) -> list[tuple]:
    """Return the rows of the open deferrals about any of the address keys."""
    if not keys:
        return []
    marks = ", ".join("?" * len(keys))
    # The partial indexes hold open deferrals only. Left to itself SQLite takes the index of
    # every deferral by recipient, and reads each closed one a troubled address ever had
    # (100 µs a message at 1M stored messages, 8 µs this way, at any size).
    return db.conn.execute(
        f"{_SELECT} INDEXED BY deferrals_open WHERE closed_at IS NULL "
        f"AND recipient_key IN ({marks}) UNION {_SELECT} INDEXED BY deferrals_open_final "
        f"WHERE closed_at IS NULL AND final_key IN ({marks})",
        (*keys, *keys),
    ).fetchall()


def due(db: Database, now: datetime, limit: int) -> list[tuple[int, Deferral]]:
    """Return up to `limit` open deferrals whose next due time has come, and those not yet
    given one (saved before due times existed, or after a policy change)."""
    rows = db.conn.execute(
        f"{_SELECT} WHERE closed_at IS NULL AND due_at <= ? "
        f"UNION ALL {_SELECT} WHERE closed_at IS NULL AND due_at IS NULL LIMIT ?",
        (to_iso(now), limit),
    )
    return [_deferral(row) for row in rows]


def set_due(db: Database, dated: list[tuple[int, datetime | None]]) -> None:
    """Store the next due time of each (row id, due time)."""
    db.conn.executemany(
        "UPDATE deferrals SET due_at = ? WHERE id = ?", [(to_iso(at), rid) for rid, at in dated]
    )


def dated_by(db: Database) -> str | None:
    """Return the timer policy the stored due times were computed with (None: unknown)."""
    row = db.conn.execute("SELECT value FROM meta WHERE name = 'due_times'").fetchone()
    return row[0] if row else None


def set_dated_by(db: Database, policy: str, *, replace: bool = True) -> None:
    """Record the timer policy the stored due times follow (with replace=False, only when
    none is recorded yet)."""
    conflict = "DO UPDATE SET value = excluded.value" if replace else "DO NOTHING"
    db.conn.execute(
        f"INSERT INTO meta (name, value) VALUES ('due_times', ?) ON CONFLICT (name) {conflict}",
        (policy,),
    )


def forget_due(db: Database, limit: int) -> int:
    """Clear up to `limit` open deferrals' due times (to date them again); return how many."""
    ids = among(
        db.dialect,
        "SELECT id FROM deferrals WHERE closed_at IS NULL AND due_at IS NOT NULL LIMIT ?",
    )
    return db.conn.execute(
        f"UPDATE deferrals SET due_at = NULL WHERE id {ids}",
        (limit,),
    ).rowcount


def save(db: Database, row_id: int | None, deferral: Deferral, due_at: datetime | None) -> int:
    """Insert (row_id None) or update a deferral with its next due time; return its row id."""
    original = deferral.original
    final = deferral.final_recipient
    values = {
        "recipient": deferral.recipient,
        "recipient_key": db.identity.key(deferral.recipient),
        "final_recipient": final,
        "final_key": db.identity.key(final) if final else None,
        "key": deferral.key,
        "opened_at": to_iso(deferral.opened_at),
        "started_at": to_iso(deferral.started_at),
        "last_seen": to_iso(deferral.last_seen),
        "attempts": deferral.attempts,
        "last_status": deferral.last_status,
        "last_diagnostic": deferral.last_diagnostic,
        "last_reason": deferral.last_reason,
        "orig_message_id": original.message_id,
        "orig_from": original.from_addr,
        "orig_to": original.to,
        "orig_subject": original.subject,
        "orig_date": original.date,
        "will_retry_until": to_iso(deferral.will_retry_until),
        "last_attempt_at": to_iso(deferral.last_attempt),
        "warned_at": to_iso(deferral.warned_at),
        "closed_at": to_iso(deferral.closed_at),
        "close_reason": deferral.close_reason,
        "due_at": to_iso(due_at),
    }
    names = list(values)
    if row_id is None:
        marks = ", ".join("?" * len(names))
        sql = f"INSERT INTO deferrals ({', '.join(names)}) VALUES ({marks}) RETURNING id"
        return db.conn.execute(sql, list(values.values())).fetchone()[0]
    assignments = ", ".join(f"{name} = ?" for name in names)
    db.conn.execute(f"UPDATE deferrals SET {assignments} WHERE id = ?", (*values.values(), row_id))
    return row_id


def listing(
    db: Database, *, open_only: bool = False, recipient: str | None = None, limit: int = 1000
) -> list[dict]:
    """Return deferrals as dicts, most recently seen first; `recipient` matches either address.

    Every deferral of an address is read on the day-first index (bouncer.store.days) over the
    days reports were last seen, then sorted: an address has few.
    """
    if not recipient:
        condition = "closed_at IS NULL" if open_only else "1 = 1"
        sql = f"{_SELECT} WHERE {condition} ORDER BY last_seen DESC, id DESC LIMIT ?"
        rows = db.conn.execute(sql, (limit,)).fetchall()
    else:  # an address has few deferrals: all of them, sorted here
        key = db.identity.key(recipient)
        if open_only:
            rows = _open_rows(db, [key])
        else:
            rows = days.about(db, "deferrals", "last_seen", key, select=", ".join(COLUMNS))
        seen = COLUMNS.index("last_seen")
        rows = sorted(rows, key=lambda row: (row[seen], row[0]), reverse=True)[:limit]
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]
