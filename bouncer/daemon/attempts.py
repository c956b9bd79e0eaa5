"""The outbox loop's decisions: when a failed attempt is tried again, how finished attempts are
recorded (one transaction; a 410 disables its webhook), and which due deliveries start now.

Used by `bouncer.daemon.delivery.Outbox` on its database thread (`record`) and its event loop
(`choose`); the backoff itself is `bouncer.daemon.webhook.next_attempt`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from bouncer.clock import from_iso
from bouncer.daemon import webhook
from bouncer.store import outbox as store
from bouncer.store.outbox import Delivery, DeliveryResult


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff of failed attempts: doubling from base up to cap, for give_up_after in all."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    retention: timedelta = timedelta(days=7)  # finished deliveries are kept this long


@dataclass(frozen=True, slots=True)
class Finished:
    """One attempt that ended and is waiting to be recorded."""

    delivery: Delivery
    result: DeliveryResult


@dataclass(frozen=True, slots=True)
class Recorded:
    """One attempt as recorded: the delivery's new state, and when it is retried if pending."""

    finished: Finished
    state: str | None  # None: the delivery had already left the pending state
    next_at: datetime | None
    dropped: int = 0  # pending deliveries of the URL marked gone with it


def retry_at(delivery: Delivery, now: datetime, policy: RetryPolicy) -> datetime | None:
    """Return when to try a delivery again after one more failed attempt, or None to give up."""
    first = from_iso(delivery.first_attempt_at) or now
    return webhook.next_attempt(
        delivery.attempts + 1,
        now,
        policy.base,
        policy.cap,
        policy.give_up_after,
        first_attempt_at=first,
        jitter_key=delivery.event_id,
    )


def record(
    db: Database, finished: Iterable[Finished], now: datetime, policy: RetryPolicy
) -> list[Recorded]:
    """Store finished attempts in one transaction; a 410 disables its webhook."""
    recorded = []
    with db.atomic():
        for item in finished:
            failed = item.result.state == "retry"
            next_at = retry_at(item.delivery, now, policy) if failed else None
            state = store.record_result(db, item.delivery.id, item.result, now, next_at)
            dropped = 0
            if state == "gone":
                dropped = store.disable(db, item.delivery.url, item.result.error or "gone", now)
            recorded.append(Recorded(item, state, next_at, dropped))
    return recorded


def choose(
    candidates: Iterable[Delivery], busy: dict[int, str], free: int, per_webhook: int
) -> list[Delivery]:
    """Pick up to `free` deliveries not already running, at most `per_webhook` per URL."""
    per_url: dict[str, int] = {}
    for url in busy.values():
        per_url[url] = per_url.get(url, 0) + 1
    chosen: list[Delivery] = []
    for delivery in candidates:
        if len(chosen) >= free:
            break
        if delivery.id in busy or per_url.get(delivery.url, 0) >= per_webhook:
            continue
        per_url[delivery.url] = per_url.get(delivery.url, 0) + 1
        chosen.append(delivery)
    return chosen
