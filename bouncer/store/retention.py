"""Retention: drop raw copies, records and events past their keep periods, in small batches,
and give the freed pages back to the file system.

What a decision still rests on is never dropped: a message (and its bounce records) that an
active suppression names as its evidence, a message not yet processed or whose processing
failed, an open deferral, an event a webhook has still to deliver, an open alert episode.
Ended alert episodes go with the records (a reprocess asks whether a record's report was
received during a sender block).

The database is created with `auto_vacuum = INCREMENTAL` (SQLite's "incremental vacuum"), so
pages freed by deletions are returned a batch at a time with `PRAGMA incremental_vacuum`
rather than by a full VACUUM that locks the file for its whole length. A database created
before that needs one `bouncer db vacuum` to switch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.store import alerts, inbox
from bouncer.store.dialect import SQLITE, among

BATCH = 1000  # rows per table per pass, at most
SLICE = 100  # rows per statement
HOLD_SECONDS = 0.03  # a pass's transaction ends after the slice that reaches this length
VACUUM_PAGES = 2000  # freed pages returned per pass (8 MB with 4 KiB pages)
# pages one incremental-vacuum statement returns: each statement is a write transaction of its
# own (2,000 at once held the lock 23-49 ms at 1M stored messages, over 100 ms in a slow hour)
VACUUM_SLICE = 250


@dataclass(frozen=True)
class Retention:
    """Keep periods (None: forever) for raw copies, records (messages with their bounce
    records, closed deferrals) and events (with their finished webhook deliveries)."""

    keep_raw: timedelta | None = timedelta(days=90)
    keep_records: timedelta | None = timedelta(days=400)
    keep_events: timedelta | None = timedelta(days=400)


@dataclass(frozen=True)
class Pruned:
    """What one pass dropped: raw copies, messages, bounce records, deferrals, events, ended
    alert episodes, pages."""

    raw: int = 0
    messages: int = 0
    bounces: int = 0
    deferrals: int = 0
    events: int = 0
    alerts: int = 0
    pages: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


def prune_once(db: Database, now: datetime, retention: Retention, batch: int = BATCH) -> Pruned:
    """Run one pass: up to `batch` rows of each kind, each kind in its own short transaction
    (ended early once it has lasted HOLD_SECONDS), then return up to VACUUM_PAGES free pages.
    Returns the counts."""
    raw = messages = bounces = deferrals = events = episodes = 0
    if retention.keep_raw is not None:
        (raw,) = _bounded(
            db, batch, lambda n: (inbox.prune_raw(db, now - retention.keep_raw, now, n),)
        )
    if retention.keep_records is not None:
        before = now - retention.keep_records
        messages, bounces = _bounded(db, batch, lambda n: prune_records(db, before, n))
        (deferrals,) = _bounded(db, batch, lambda n: (prune_deferrals(db, before, n),))
        (episodes,) = _bounded(db, batch, lambda n: (alerts.prune_episodes(db, before, n),))
    if retention.keep_events is not None:
        before = now - retention.keep_events
        (events,) = _bounded(db, batch, lambda n: (prune_events(db, before, n),))
    pages = give_back_pages(db)
    return Pruned(raw, messages, bounces, deferrals, events, episodes, pages)


def _bounded(db: Database, batch: int, step: Callable[[int], tuple[int, ...]]) -> tuple[int, ...]:
    """Run `step(n)` (deleting up to n rows, returning counts whose first is the rows it took)
    in slices of SLICE rows within one transaction, until `batch` rows, a short slice or
    HOLD_SECONDS: on a large file a slice costs more (its rows and index entries are spread
    over more pages), so the transaction is ended by its length, not by a row count."""
    totals: tuple[int, ...] = ()
    started, done = time.monotonic(), 0
    with db.atomic():
        while done < batch:
            size = min(SLICE, batch - done)
            counts = step(size)
            totals = tuple(map(sum, zip(totals, counts, strict=True))) if totals else counts
            done += counts[0]
            if counts[0] < size or time.monotonic() - started >= HOLD_SECONDS:
                break
    return totals


def prune_records(db: Database, received_before: datetime, batch: int = BATCH) -> tuple[int, int]:
    """Delete processed messages received before a time, with their bounce records, except
    those an active suppression rests on. Returns (messages, bounce records) deleted."""
    ids = [
        row[0]
        for row in db.conn.execute(
            "SELECT id FROM messages WHERE received_at < ? AND state = 'processed' "
            "AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.message_id = messages.id) "
            "ORDER BY received_at LIMIT ?",
            (to_iso(received_before), batch),
        )
    ]
    if not ids:
        return 0, 0
    marks = ",".join("?" * len(ids))
    bounces = db.conn.execute(f"DELETE FROM bounces WHERE message_id IN ({marks})", ids).rowcount
    db.conn.execute(f"DELETE FROM raw_messages WHERE message_id IN ({marks})", ids)
    messages = db.conn.execute(f"DELETE FROM messages WHERE id IN ({marks})", ids).rowcount
    return messages, bounces


def prune_deferrals(db: Database, closed_before: datetime, batch: int = BATCH) -> int:
    """Delete deferrals closed before a time (open ones stay, however old). Returns how many."""
    ids = among(
        db.dialect,
        "SELECT id FROM deferrals WHERE closed_at IS NOT NULL AND closed_at < ? "
        "ORDER BY closed_at LIMIT ?",
    )
    return db.conn.execute(
        f"DELETE FROM deferrals WHERE id {ids}",
        (to_iso(closed_before), batch),
    ).rowcount


def prune_events(db: Database, recorded_before: datetime, batch: int = BATCH) -> int:
    """Delete events recorded before a time with their finished deliveries; an event with a
    delivery still pending stays. Returns how many events were deleted."""
    seqs = [
        row[0]
        for row in db.conn.execute(
            "SELECT seq FROM events WHERE recorded_at < ? AND NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq AND d.state = 'pending') "
            "ORDER BY recorded_at LIMIT ?",
            (to_iso(recorded_before), batch),
        )
    ]
    if not seqs:
        return 0
    marks = ",".join("?" * len(seqs))
    db.conn.execute(f"DELETE FROM deliveries WHERE event_seq IN ({marks})", seqs)
    return db.conn.execute(f"DELETE FROM events WHERE seq IN ({marks})", seqs).rowcount


def give_back_pages(db: Database, pages: int = VACUUM_PAGES) -> int:
    """Return up to `pages` free pages to the file system (incremental auto-vacuum only), in
    statements of VACUUM_SLICE pages, each a short write transaction. Returns how many were
    free before (0 when the database is not in incremental mode, or
    inside a transaction, which the pragma would commit)."""
    if db.dialect != SQLITE:
        return 0  # PostgreSQL's autovacuum reuses freed space on its own
    if db.conn.in_transaction or db.conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
        return 0
    free = db.conn.execute("PRAGMA freelist_count").fetchone()[0]
    left = min(free, pages)
    while left > 0:
        _vacuum_slice(db, min(left, VACUUM_SLICE))
        left -= VACUUM_SLICE
    return min(free, pages)


def _vacuum_slice(db: Database, pages: int) -> None:
    """Return `pages` free pages in one statement (a write transaction of its own)."""
    # executescript steps the pragma to the end; execute() would free a single page
    db.conn.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
