"""The suppression list in bulk: read it whole a page at a time, look up and write many entries.

For `bouncer suppression export` and `import`: pages walk the primary key (flat memory, each
page one index range), lookups ask for a few hundred keys at once, and writes are one
executemany each, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.store.dialect import SNAPSHOT
from bouncer.store.suppressions import COLUMNS

LOOKUP_CHUNK = 500  # keys per lookup query
_ACTIVE = "(expires_at IS NULL OR expires_at > ?)"
_WRITTEN = (*COLUMNS, "final_key", "address_key")


def active(db: Database, now: datetime, page: int = 1000) -> Iterator[dict]:
    """Yield every active suppression in key order, reading `page` rows at a time.

    The pages are read in one read transaction, so the whole is one consistent state even
    while the daemon writes; the transaction ends when the iterator is exhausted or closed.
    """
    select = (
        f"SELECT address_key, {', '.join(COLUMNS)} FROM suppressions "
        f"WHERE address_key > ? AND {_ACTIVE} ORDER BY address_key LIMIT ?"
    )
    after, stamp = "", to_iso(now)
    db.conn.execute(SNAPSHOT[db.dialect])
    try:
        while True:
            rows = db.conn.execute(select, (after, stamp, page)).fetchall()
            for row in rows:
                yield dict(zip(COLUMNS, row[1:], strict=True))
            if len(rows) < page:
                return
            after = rows[-1][0]
    finally:
        db.conn.execute("ROLLBACK")


def active_by_key(db: Database, keys: Sequence[str], now: datetime) -> dict[str, dict]:
    """Return the active entries stored under any of the keys, by key."""
    found: dict[str, dict] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        part = keys[start : start + LOOKUP_CHUNK]
        marks = ", ".join("?" * len(part))
        rows = db.conn.execute(
            f"SELECT address_key, {', '.join(COLUMNS)} FROM suppressions "
            f"WHERE address_key IN ({marks}) AND {_ACTIVE}",
            (*part, to_iso(now)),
        )
        for row in rows:
            found[row[0]] = dict(zip(COLUMNS, row[1:], strict=True))
    return found


def insert_many(db: Database, rows: Iterable[dict]) -> None:
    """Store new entries (every COLUMNS field, times as stored text), replacing expired ones."""
    marks = ", ".join("?" * len(_WRITTEN))
    replaced = ", ".join(f"{name} = excluded.{name}" for name in _WRITTEN[:-1])
    db.conn.executemany(
        f"INSERT INTO suppressions ({', '.join(_WRITTEN)}) VALUES ({marks}) "
        f"ON CONFLICT (address_key) DO UPDATE SET {replaced}",
        (_values(db, row) for row in rows),
    )


def update_many(db: Database, rows: Iterable[dict]) -> None:
    """Rewrite stored entries whole (every COLUMNS field), each found by its address's key."""
    settings = ", ".join(f"{name} = ?" for name in _WRITTEN[:-1])
    db.conn.executemany(
        f"UPDATE suppressions SET {settings} WHERE address_key = ?",
        (_values(db, row) for row in rows),
    )


def _values(db: Database, row: dict) -> tuple:
    """Return a row's values in _WRITTEN order, with its final and address keys."""
    final = row.get("final_recipient")
    keys = (db.identity.key(final) if final else None, db.identity.key(row["address"]))
    return (*(row.get(name) for name in COLUMNS), *keys)
