"""Sweeps: fire the timers of open deferrals that fell due, lift expired suppressions, end
alert episodes whose count fell; in bounded steps (`sweep_bounded`: one short write
transaction each, in the daemon), or all at once in one transaction (`sweep_once`, for
`bouncer sweep`).
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlite_utils import Database

from bouncer.app import alerts
from bouncer.app.tracking import TICK, persist, timer_settings, write_events
from bouncer.clock import from_iso
from bouncer.core import tracker
from bouncer.core.alerts import AlertPolicy
from bouncer.core.timers import next_due
from bouncer.core.tracker import Event, Policy
from bouncer.store import deferrals, soft_failures, suppressions

SWEEP_BATCH = 100  # deferrals (and expiries) per step, at most
# The daemon's write transaction of a sweep takes steps of SWEEP_SLICE until it has lasted
# HOLD_SECONDS: what a fired deferral costs varies with the machine and the store (0.3 to
# 0.8 ms measured at 1M stored messages: a step of 100 held the lock up to 80 ms, of 170 up to
# 132), so the transaction is ended by its length, as prune's and reprocess's are.
SWEEP_SLICE = 20
HOLD_SECONDS = 0.03
DEFAULT_ALERTS = AlertPolicy()


def sweep(
    db: Database,
    now: datetime,
    policy: Policy,
    recorded_at: datetime | None = None,
    alert_policy: AlertPolicy = DEFAULT_ALERTS,
) -> list[dict]:
    """Fire every due timer of open deferrals, lift expired suppressions and end alert
    episodes whose count fell; return events.

    `now` is the time the sweep decides at; `recorded_at` (default: now) the real time of the
    write. Runs `sweep_step` until nothing is left, all in the caller's transaction.
    """
    written: list[dict] = []
    more = True
    while more:
        fired, more = sweep_step(db, now, policy, recorded_at, alert_policy=alert_policy)
        written += fired
    return written


def sweep_step(
    db: Database,
    now: datetime,
    policy: Policy,
    recorded_at: datetime | None = None,
    limit: int = SWEEP_BATCH,
    *,
    alert_policy: AlertPolicy = DEFAULT_ALERTS,
) -> tuple[list[dict], bool]:
    """Do a bounded part of a sweep: up to `limit` due deferrals, expired suppressions, old
    soft-failure days, open alert episodes and old failure counts. Returns (events written,
    whether more is left). Its cost follows what is due, not what is stored: deferrals are
    read by their next due time (indexed).

    Alerts are decided at the real time when `now` is later (`bouncer sweep --now`): the
    counts are of real failures, and an episode ended early would open again."""
    recorded_at = recorded_at or now
    fired, more = alerts.sweep_step(db, min(now, recorded_at), alert_policy, recorded_at, limit)
    if more:
        return fired, True
    dated_by = deferrals.dated_by(db)
    if dated_by is None:  # no due time written yet
        deferrals.set_dated_by(db, timer_settings(policy))
    elif dated_by != timer_settings(policy):  # the timer settings changed: date everything again
        if deferrals.forget_due(db, limit) < limit:
            deferrals.set_dated_by(db, timer_settings(policy))
        return [], True
    written: list[dict] = fired
    due = deferrals.due(db, now, limit)
    for row_id, deferral in due:
        outcome = tracker.due(deferral, now, policy)
        if outcome.events:
            written += persist(db, outcome, row_id, now, policy, recorded_at=recorded_at)
        else:  # nothing fired (an earlier due time was stored): look again at the next one
            later = next_due(deferral, policy)
            deferrals.set_due(db, [(row_id, later and max(later, now + TICK))])
    expired = suppressions.take_expired(db, now, limit)
    for row in expired:
        written += _expiry(db, row, recorded_at)
    pruned = soft_failures.prune(db, (now - policy.escalation_window).date(), limit)
    return written, max(len(due), len(expired), pruned) >= limit


def sweep_bounded(
    db: Database,
    now: datetime,
    policy: Policy,
    recorded_at: datetime | None = None,
    *,
    alert_policy: AlertPolicy = DEFAULT_ALERTS,
) -> tuple[list[dict], bool]:
    """Run one write transaction of a sweep (the daemon's): `sweep_step`s of SWEEP_SLICE until
    nothing is left, SWEEP_BATCH deferrals, or HOLD_SECONDS (monotonic clock) have passed.
    Returns (events written, whether more is left); call again while more is left."""
    written: list[dict] = []
    started, steps, more = time.monotonic(), 0, True
    with db.atomic():
        while more and steps * SWEEP_SLICE < SWEEP_BATCH:
            fired, more = sweep_step(
                db, now, policy, recorded_at, SWEEP_SLICE, alert_policy=alert_policy
            )
            written += fired
            steps += 1
            if time.monotonic() - started >= HOLD_SECONDS:
                break
    return written, more


def _expiry(db: Database, row: dict, recorded_at: datetime) -> list[dict]:
    """Write the suppression.expired event of a suppression past its expiry."""
    expired = Event(
        "suppression.expired",
        from_iso(row["expires_at"]),
        row["address"],
        reason=row["reason"],
        bounce_class=row["class"],
        status=row["status"],
    )
    return write_events(db, (expired,), {"source": row["source"]}, recorded_at)


class _DryRun(Exception):
    """Raised inside the sweep transaction to roll it back."""


def sweep_once(
    db: Database,
    now: datetime,
    policy: Policy,
    *,
    dry_run: bool = False,
    recorded_at: datetime | None = None,
    alert_policy: AlertPolicy = DEFAULT_ALERTS,
) -> list[dict]:
    """Run one sweep in one transaction; with dry_run, report what would fire and roll back.

    `now` is the time the sweep decides at (`bouncer sweep --now` simulates one);
    `recorded_at` the real time of the write (default: now).
    """
    fired: list[dict] = []
    try:
        with db.atomic():
            fired = sweep(db, now, policy, recorded_at, alert_policy)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return fired
