"""Lookups on the day-first indexes of bounce records and events.

The indexes that find records and events by address, domain or Message-ID begin with the UTC
day of the row (`substr(received_at, 1, 10)` of its ISO time; migration 13). Keys such as
addresses arrive in no order, so an index led by the key takes each insert at a random page of
an index as large as the whole history: at a million stored messages each such index cost
about 50 µs a message (a page read, a WAL frame, a checkpoint write). Led by the day, inserts
land in today's few pages at any size, as in a time-partitioned log.

A lookup then names the days to search: every day from the oldest row's to the newest's,
within the query's time bounds. It seeks once per day (about 3 µs each), so a year of records
costs about a millisecond, however many rows the store holds. Days go in slices of `SLICE`,
newest first, so a paged listing stops as soon as its page is full.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sqlite_utils import Database

SLICE = 400  # days per statement: within any driver's parameter limit


def day_of(column: str) -> str:
    """Return the SQL expression of a time column's UTC day, as the day-first indexes hold it."""
    return f"substr({column}, 1, 10)"


def span(
    db: Database, table: str, column: str, since: str | None = None, until: str | None = None
) -> list[str]:
    """Return the UTC days ('YYYY-MM-DD') that rows of `table` may fall on, newest first.

    The days run from the newest row's `column` (an ISO time) back to the oldest's, cut to
    [since, until) when given (ISO times or dates). Both ends are read on an index led by the
    time column (two seeks). Empty list: no row, or none in the bounds.
    """
    newest = db.conn.execute(f"SELECT MAX({column}) FROM {table}").fetchone()[0]
    if newest is None:
        return []
    oldest = db.conn.execute(f"SELECT MIN({column}) FROM {table}").fetchone()[0]
    first = max(oldest[:10], since[:10]) if since else oldest[:10]
    last = min(newest[:10], until[:10]) if until else newest[:10]
    if first > last:
        return []
    day, stop = date.fromisoformat(last), date.fromisoformat(first)
    days = []
    while day >= stop:
        days.append(day.isoformat())
        day -= timedelta(days=1)
    return days


def slices(days: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Yield (an `IN (...)` list of placeholders, the days it binds) for each slice of days,
    in the order given."""
    for start in range(0, len(days), SLICE):
        part = days[start : start + SLICE]
        yield f"({', '.join('?' * len(part))})", part


def about(
    db: Database,
    table: str,
    column: str,
    key: str,
    *,
    select: str,
    since: str | None = None,
    condition: str = "1 = 1",
    params: tuple | list = (),
) -> list[tuple]:
    """Return every row of `table` about an address key, as its recipient or its final one,
    on every day of `column` (newest slice first, unsorted): `select` is the column list.

    Read on the table's `<table>_recipient` and `<table>_final` indexes (day first, or key
    first for a sparse final-key index: the day is then a filter). `condition` and `params`
    filter further. For an address's few rows: all are read, the caller sorts and cuts.
    """
    rows: list[tuple] = []
    for marks, part in slices(span(db, table, column, since)):
        sql = " UNION ".join(
            f"SELECT {select} FROM {table} INDEXED BY {table}_{index} "
            f"WHERE {day_of(column)} IN {marks} AND {clause} AND {condition}"
            for index, clause in (
                ("recipient", "recipient_key = ?"),
                ("final", "final_key IS NOT NULL AND final_key = ?"),
            )
        )
        rows += db.conn.execute(sql, [*part, key, *params] * 2).fetchall()
    return rows
