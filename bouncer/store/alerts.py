"""The alert tables: failures counted per scope and bucket (`failure_counts`), and alert
episodes (`alerts`).

A count row holds the failures of one scope (`all`, `domain:...`, `reason:...`,
`provider:...`) in one bucket starting at `start`; rows older than the longest window are
pruned a batch per sweep, so the table holds about one window of traffic however long the
store has run, and every count reads a few dozen rows by (scope, start). An episode row is
open until `ended_at` is set (at most one open per scope, a unique index says so); closed
ones stay for as long as records are kept, to say whether a report was received during a
sender block (`during`). Decisions are bouncer.core.alerts' and bouncer.core.episodes'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlite_utils import Database

from bouncer.clock import from_iso, to_iso
from bouncer.core.episodes import Episode

_EPISODE = "id, scope, opened_at, checked_at, count, peak, event_id, ended_at"


def add_counts(db: Database, added: Mapping[tuple[str, datetime], int]) -> None:
    """Add failures to their buckets: {(scope, bucket start): failures}."""
    db.conn.executemany(
        "INSERT INTO failure_counts (scope, start, n) VALUES (?, ?, ?) "
        "ON CONFLICT (scope, start) DO UPDATE SET n = n + excluded.n",
        [(scope, to_iso(start), n) for (scope, start), n in added.items()],
    )


def total(db: Database, scope: str, after: datetime, until: datetime) -> int:
    """Return a scope's failures in the buckets starting in (after, until]."""
    row = db.conn.execute(
        "SELECT COALESCE(SUM(n), 0) FROM failure_counts "
        "WHERE scope = ? AND start > ? AND start <= ?",
        (scope, to_iso(after), to_iso(until)),
    ).fetchone()
    return int(row[0])


def buckets(
    db: Database, scope: str, after: datetime, until: datetime
) -> list[tuple[datetime, int]]:
    """Return a scope's (bucket start, failures) for buckets starting in (after, until], in
    time order."""
    rows = db.conn.execute(
        "SELECT start, n FROM failure_counts WHERE scope = ? AND start > ? AND start <= ? "
        "ORDER BY start",
        (scope, to_iso(after), to_iso(until)),
    )
    return [(from_iso(start), n) for start, n in rows]


def top(
    db: Database, kind: str, after: datetime, until: datetime, limit: int = 5
) -> list[tuple[str, int]]:
    """Return the scopes of one kind ("domain", "reason") with the most failures in buckets
    starting in (after, until], most first: (name without the kind, failures)."""
    rows = db.conn.execute(
        "SELECT scope, SUM(n) AS failures FROM failure_counts "
        "WHERE scope > ? AND scope < ? AND start > ? AND start <= ? "
        "GROUP BY scope ORDER BY failures DESC, scope LIMIT ?",
        (f"{kind}:", f"{kind};", to_iso(after), to_iso(until), limit),
    )
    return [(scope.partition(":")[2], failures) for scope, failures in rows]


def prune_counts(db: Database, before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` buckets starting before `before` (outside every window); return
    how many."""
    return db.conn.execute(
        "DELETE FROM failure_counts WHERE id IN "
        "(SELECT id FROM failure_counts WHERE start < ? LIMIT ?)",
        (to_iso(before), limit),
    ).rowcount


def latest(db: Database, scope: str, at: datetime | None = None) -> Episode | None:
    """Return a scope's latest episode (open or ended), or the latest opened at or before
    `at` when given."""
    condition, params = ("AND opened_at <= ? ", (to_iso(at),)) if at else ("", ())
    row = db.conn.execute(
        f"SELECT {_EPISODE} FROM alerts WHERE scope = ? {condition}ORDER BY opened_at DESC LIMIT 1",
        (scope, *params),
    ).fetchone()
    return _episode(row) if row else None


def during(db: Database, scope: str, at: datetime) -> Episode | None:
    """Return the scope's episode that was open at `at` (opened at or before it, not ended
    by then), else None."""
    found = latest(db, scope, at)
    if found is None or (found.ended_at is not None and found.ended_at <= at):
        return None
    return found


def open_episodes(db: Database) -> dict[str, Episode]:
    """Return the open episodes by scope."""
    rows = db.conn.execute(f"SELECT {_EPISODE} FROM alerts WHERE ended_at IS NULL")
    return {episode.scope: episode for episode in map(_episode, rows)}


def unchecked(db: Database, before: datetime, limit: int = 500) -> list[Episode]:
    """Return open episodes last decided before `before`, longest unchecked first."""
    rows = db.conn.execute(
        f"SELECT {_EPISODE} FROM alerts WHERE ended_at IS NULL AND checked_at < ? "
        "ORDER BY checked_at LIMIT ?",
        (to_iso(before), limit),
    )
    return [_episode(row) for row in rows]


def save(db: Database, episode: Episode) -> Episode:
    """Insert a new episode (id None) or update one; return it with its id."""
    changing = (
        to_iso(episode.checked_at),
        episode.peak,
        episode.event_id,
        to_iso(episode.ended_at),
    )
    if episode.id is not None:
        db.conn.execute(
            "UPDATE alerts SET checked_at = ?, peak = ?, event_id = ?, ended_at = ? WHERE id = ?",
            (*changing, episode.id),
        )
        return episode
    cursor = db.conn.execute(
        "INSERT INTO alerts (scope, type, opened_at, count, checked_at, peak, event_id, "
        "ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (episode.scope, episode.type, to_iso(episode.opened_at), episode.count, *changing),
    )
    return replace(episode, id=cursor.lastrowid)


def prune_episodes(db: Database, ended_before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` episodes that ended before a time; return how many."""
    return db.conn.execute(
        "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts "
        "WHERE ended_at IS NOT NULL AND ended_at < ? ORDER BY ended_at LIMIT ?)",
        (to_iso(ended_before), limit),
    ).rowcount


def _episode(row: tuple) -> Episode:
    """Build an Episode from a row of _EPISODE columns."""
    row_id, scope, opened_at, checked_at, count, peak, event_id, ended_at = row
    return Episode(
        scope,
        from_iso(opened_at),
        from_iso(checked_at),
        count,
        peak,
        event_id,
        from_iso(ended_at),
        row_id,
    )
