"""The webhook outbox tables: per-webhook cursors over the events table and one row per delivery.

Each configured webhook has a cursor (`webhook_cursors.last_seq`): `enqueue_new` turns the events
after it into `deliveries` rows (fixed body bytes, due at once) and advances it, in one
transaction, so each event is enqueued once per webhook (also guarded by UNIQUE(url, event_seq)).

A webhook seen for the first time starts after the newest event stored at that moment: a new
endpoint on an old database is not flooded with history. On a fresh database that is seq 0, so
every event is delivered; call `register` at start-up, before messages are processed, so that
nothing committed while the daemon runs is missed.

Delivery states: `pending` (due at next_attempt_at), `delivered`, `gone` (the webhook answered
410 and was disabled), `failed` (retries exhausted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlite_utils import Database

from bouncer.clock import to_iso
from bouncer.core.event_body import stored_event_body
from bouncer.store import events

DELIVERY_STATES = ("pending", "delivered", "gone", "failed")


class Subscription(Protocol):
    """What the outbox needs of a webhook (config.WebhookConfig is one): its URL and the event
    types it takes (empty: every type)."""

    @property
    def url(self) -> str: ...

    @property
    def events(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The result of one delivery attempt: state, HTTP status if any, and an error text."""

    state: str  # delivered | retry | gone
    http_status: int | None = None
    error: str | None = None


_DELIVERY_COLUMNS = (
    "id",
    "url",
    "event_seq",
    "event_id",
    "body",
    "attempts",
    "first_attempt_at",
    "next_attempt_at",
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One pending delivery: an event's fixed body bound for one webhook URL."""

    id: int
    url: str
    event_seq: int
    event_id: str
    body: bytes
    attempts: int
    first_attempt_at: str | None
    next_attempt_at: str


@dataclass(frozen=True, slots=True)
class WebhookStats:
    """A webhook's cursor, whether it is disabled, and its deliveries counted by state."""

    url: str
    last_seq: int
    disabled_at: str | None
    disabled_reason: str | None
    pending: int = 0
    delivered: int = 0
    gone: int = 0
    failed: int = 0
    next_attempt_at: str | None = None  # earliest pending


def register(db: Database, urls: Iterable[str]) -> list[str]:
    """Create a cursor at the newest event for each unknown URL; return the disabled ones."""
    wanted = list(dict.fromkeys(urls))
    with db.atomic():
        newest = _newest_seq(db)
        db.conn.executemany(
            "INSERT INTO webhook_cursors (url, last_seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(url, newest) for url in wanted],
        )
    return [url for url in wanted if _cursor(db, url)[1] is not None]


def enqueue_new(
    db: Database, webhooks: Sequence[Subscription], now: datetime, limit: int = 500
) -> int:
    """Queue up to `limit` new events per enabled webhook and advance cursors; return rows added."""
    added = 0
    with db.atomic():
        register(db, [hook.url for hook in webhooks])
        for hook in webhooks:
            added += _enqueue_for(db, hook, now, limit)
    return added


def due(
    db: Database, now: datetime, limit: int = 100, urls: Iterable[str] | None = None
) -> list[Delivery]:
    """Return pending deliveries due at `now`, oldest first (only for `urls` when given)."""
    sql = (
        # The pending ones only: the index on (url, event_seq) would read every delivery a
        # hook ever had, kept as long as its event.
        f"SELECT {', '.join(_DELIVERY_COLUMNS)} FROM deliveries INDEXED BY deliveries_due "
        "WHERE state = 'pending' AND next_attempt_at <= ?"
    )
    params: list[object] = [to_iso(now)]
    if urls is not None:
        wanted = list(urls)
        sql += f" AND url IN ({', '.join('?' * len(wanted))})"
        params.extend(wanted)
    sql += " ORDER BY next_attempt_at, id LIMIT ?"
    rows = db.conn.execute(sql, [*params, limit]).fetchall()
    return [Delivery(*row[:4], bytes(row[4]), *row[5:]) for row in rows]


def claim(db: Database, delivery_ids: Sequence[int], until: datetime) -> None:
    """Lease pending deliveries about to be attempted: they are not due again before `until`
    (the attempt's timeout and more), so another pass or another node sharing the store does
    not take them meanwhile. Call inside the write transaction that found them due; the
    attempt's result (`record_result`) sets their next state. A node that dies mid-attempt
    leaves its lease to expire: the delivery is then attempted again (at least once)."""
    if not delivery_ids:
        return
    marks = ", ".join("?" * len(delivery_ids))
    db.conn.execute(
        f"UPDATE deliveries SET next_attempt_at = ? WHERE state = 'pending' AND id IN ({marks})",
        [to_iso(until), *delivery_ids],
    )


def record_result(
    db: Database, delivery_id: int, result: DeliveryResult, now: datetime, next_at: datetime | None
) -> str | None:
    """Store one attempt's result; return the delivery's new state (None if it was not pending).

    delivered → `delivered`; gone → `gone`; a retry → `pending` until `next_at`, or `failed`
    when `next_at` is None (retries exhausted).
    """
    state = _state_after(result, next_at)
    stamp = to_iso(now)
    cursor = db.execute(
        """UPDATE deliveries SET state = ?, attempts = attempts + 1,
               first_attempt_at = COALESCE(first_attempt_at, ?), next_attempt_at = ?,
               last_status = ?, last_error = ?, delivered_at = ?
           WHERE id = ? AND state = 'pending'""",
        (
            state,
            stamp,
            to_iso(next_at) if state == "pending" else stamp,
            result.http_status,
            result.error,
            stamp if state == "delivered" else None,
            delivery_id,
        ),
    )
    return state if cursor.rowcount else None


def disable(db: Database, url: str, reason: str, now: datetime) -> int:
    """Stop a webhook: mark it disabled and its pending deliveries gone; return how many."""
    with db.atomic():
        db.execute(
            "INSERT INTO webhook_cursors (url, last_seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (url, _newest_seq(db)),
        )
        db.execute(
            "UPDATE webhook_cursors SET disabled_at = ?, disabled_reason = ? WHERE url = ?",
            (to_iso(now), reason, url),
        )
        cursor = db.execute(
            "UPDATE deliveries INDEXED BY deliveries_due SET state = 'gone', last_error = ? "
            "WHERE url = ? AND state = 'pending'",
            (reason, url),
        )
    return cursor.rowcount


def enable(db: Database, url: str) -> bool:
    """Re-enable a disabled webhook from the newest event on; return False if it was not."""
    cursor = db.execute(
        "UPDATE webhook_cursors SET disabled_at = NULL, disabled_reason = NULL, last_seq = ? "
        "WHERE url = ? AND disabled_at IS NOT NULL",
        (_newest_seq(db), url),
    )
    return cursor.rowcount > 0


def prune(db: Database, finished_before: datetime) -> int:
    """Delete finished (not pending) deliveries last touched before a time; return how many."""
    cursor = db.execute(
        "DELETE FROM deliveries WHERE state != 'pending' "
        "AND COALESCE(delivered_at, next_attempt_at) < ?",
        (to_iso(finished_before),),
    )
    return cursor.rowcount


def stats(db: Database) -> list[WebhookStats]:
    """Return every known webhook's cursor and delivery counts, by URL."""
    counts: dict[str, dict[str, int]] = {}
    for url, state, number in db.conn.execute(
        "/* scan: deliveries are kept only for the webhook retention period */ "
        "SELECT url, state, COUNT(*) FROM deliveries GROUP BY url, state"
    ):
        counts.setdefault(url, {})[state] = number
    earliest = dict(
        db.conn.execute(
            "/* scan: pending deliveries only (kept for the retention period) */ "
            "SELECT url, MIN(next_attempt_at) FROM deliveries WHERE state = 'pending' GROUP BY url"
        )
    )
    rows = db.conn.execute(
        "SELECT url, last_seq, disabled_at, disabled_reason FROM webhook_cursors ORDER BY url"
    )
    return [
        WebhookStats(*row, **counts.get(row[0], {}), next_attempt_at=earliest.get(row[0]))
        for row in rows
    ]


def _enqueue_for(db: Database, hook: Subscription, now: datetime, limit: int) -> int:
    """Queue one webhook's new events (filtered by its types) and move its cursor past them."""
    last_seq, disabled_at = _cursor(db, hook.url)
    if disabled_at is not None:
        return 0
    batch = events.search(db, after_seq=last_seq, limit=limit)
    if not batch:
        return 0
    wanted = [event for event in batch if not hook.events or event["type"] in hook.events]
    stamp = to_iso(now)
    cursor = db.conn.executemany(
        "INSERT INTO deliveries (url, event_seq, event_id, body, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            (hook.url, event["seq"], event["id"], stored_event_body(event), stamp)
            for event in wanted
        ],
    )
    db.execute(
        "UPDATE webhook_cursors SET last_seq = ? WHERE url = ?", (batch[-1]["seq"], hook.url)
    )
    return max(cursor.rowcount, 0)


def _cursor(db: Database, url: str) -> tuple[int, str | None]:
    """Return a webhook's last enqueued seq and when it was disabled (None if enabled)."""
    row = db.conn.execute(
        "SELECT last_seq, disabled_at FROM webhook_cursors WHERE url = ?", (url,)
    ).fetchone()
    return (row[0], row[1]) if row else (0, None)


def _newest_seq(db: Database) -> int:
    """Return the highest event seq (0 when there are no events)."""
    return db.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]


def _state_after(result: DeliveryResult, next_at: datetime | None) -> str:
    """Return the delivery state an attempt's result leads to."""
    if result.state in ("delivered", "gone"):
        return result.state
    return "pending" if next_at is not None else "failed"
