"""Run the deferral state machine against the store: per entry, per sweep, per resolve.

The decisions are `bouncer.tracker`'s (pure); this module loads the state they need, saves what
they return, writes their events and suppressions, all inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bouncer import tracker
from bouncer.config import TrackerConfig
from bouncer.model import Entry, Report, Verdict
from bouncer.store import deferrals, events, suppressions
from bouncer.store.suppressions import SuppressionRequest
from bouncer.tracker import Deferral, Event, Outcome, Policy

_SOURCES = {"complaint": "complaint", "bounce.hard": "bounce", "delivery.given_up": "expired"}


def policy_from(config: TrackerConfig) -> Policy:
    """Return the tracker policy the configuration asks for."""
    return Policy(
        warn_after=config.warn_after,
        give_up_after=config.give_up_after,
        expired_ttl=config.expired_ttl,
        escalation_threshold=config.escalation_threshold,
        escalation_window=config.escalation_window,
        soft_ttl=config.soft_ttl,
    )


def event_data(event: Event) -> dict:
    """Return the stored/emitted fields of a tracker event (besides id, type, at, recipient)."""
    original = event.original
    data = {
        "status": event.status,
        "reason": event.reason,
        "class": event.bounce_class,
        "diagnostic": event.diagnostic,
        "original_message_id": original.message_id,
        "original_from": original.from_addr,
        "original_subject": original.subject,
        "attempts": event.attempts,
        "age_seconds": None if event.age is None else int(event.age.total_seconds()),
    }
    data.update(event.data)
    return {key: value for key, value in data.items() if value is not None}


def _write_events(db: Database, outcome_events: tuple[Event, ...], extra: dict) -> list[dict]:
    """Store tracker events in order; return them as stored."""
    return [
        events.add(db, e.type, e.at, e.recipient, {**event_data(e), **extra})
        for e in outcome_events
    ]


def _suppress(
    db: Database, outcome: Outcome, now: datetime, message_id: int | None, extra: dict
) -> list[dict]:
    """Write the suppression an outcome asks for; return the suppression.added event if new."""
    request = outcome.suppression
    if request is None:
        return []
    source = next((_SOURCES[e.type] for e in outcome.events if e.type in _SOURCES), "escalation")
    row = SuppressionRequest(
        request.address,
        request.reason,
        request.bounce_class,
        source,
        request.status,
        request.diagnostic,
        message_id,
        request.expires_at,
    )
    if not suppressions.upsert(db, row, now):
        return []
    added = tracker.suppression_added(request, now)
    return _write_events(db, (added,), {"source": source, **extra})


def _save(
    db: Database,
    row_id: int | None,
    outcome: Outcome,
    siblings: list[tuple[int, Deferral]],
    now: datetime,
) -> None:
    """Save the outcome's deferral; a hard bounce or complaint also closes the siblings."""
    if outcome.deferral is not None:
        row_id = deferrals.save(db, row_id, outcome.deferral)
    closing = outcome.deferral.close_reason if outcome.deferral else None
    if closing in ("hard", "complaint") or any(
        e.type in ("bounce.hard", "complaint") for e in outcome.events
    ):
        for sibling_id, sibling in siblings:
            if sibling_id != row_id:
                deferrals.save(db, sibling_id, tracker.close(sibling, now, closing or "hard"))


def persist(
    db: Database,
    outcome: Outcome,
    row_id: int | None,
    now: datetime,
    *,
    message_id: int | None = None,
    siblings: list[tuple[int, Deferral]] = (),
) -> list[dict]:
    """Save everything one outcome says; return the events written, in order."""
    extra = {} if message_id is None else {"message": message_id}
    _save(db, row_id, outcome, list(siblings), now)
    written = _write_events(db, outcome.events, extra)
    return written + _suppress(db, outcome, now, message_id, extra)


def track_entry(
    db: Database,
    report: Report,
    entry: Entry,
    verdict: Verdict,
    observed_at: datetime,
    now: datetime,
    policy: Policy,
    message_id: int | None = None,
) -> list[dict]:
    """Apply one classified entry to its recipient's deferral state; return events written."""
    observation = tracker.observe(report, entry, verdict, observed_at)
    open_rows = deferrals.open_for(db, observation.recipient)
    current = tracker.match([d for _, d in open_rows], observation.recipient, observation.key)
    row_id = next((rid for rid, d in open_rows if d is current), None)
    score = deferrals.get_score(db, observation.recipient)
    outcome = tracker.apply(current, observation, now, policy, score)
    if outcome.score is not None:
        deferrals.save_score(db, observation.recipient, outcome.score)
    written = persist(db, outcome, row_id, now, message_id=message_id, siblings=open_rows)
    if observation.kind == "delivered":
        written += _lift_soft_suppression(db, observation.recipient, now, message_id)
    return written


def _lift_soft_suppression(
    db: Database, recipient: str, now: datetime, message_id: int | None
) -> list[dict]:
    """A delivery proves the mailbox works: lift an expiring (soft) suppression of it."""
    active = suppressions.get(db, recipient, now)
    if active is None or active["expires_at"] is None:
        return []
    suppressions.remove(db, recipient)
    removed = Event(
        "suppression.removed",
        now,
        recipient,
        reason=active["reason"],
        bounce_class=active["class"],
        status=active["status"],
    )
    extra = {"source": "delivered", **({} if message_id is None else {"message": message_id})}
    return _write_events(db, (removed,), extra)


def sweep(db: Database, now: datetime, policy: Policy) -> list[dict]:
    """Fire due timers of open deferrals and lift expired suppressions; return events."""
    written: list[dict] = []
    for row_id, deferral in deferrals.all_open(db):
        for outcome in tracker.sweep([deferral], now, policy):
            written += persist(db, outcome, row_id, now)
    for row in suppressions.take_expired(db, now):
        expired = Event(
            "suppression.expired",
            now,
            row["address"],
            reason=row["reason"],
            bounce_class=row["class"],
            status=row["status"],
        )
        written += _write_events(db, (expired,), {"source": row["source"]})
    return written


def resolve(
    db: Database, recipient: str, key: str | None, now: datetime, by: str = "operator"
) -> list[dict]:
    """Close the recipient's open deferrals (only the one for key, if given); return events."""
    written: list[dict] = []
    for row_id, deferral in deferrals.open_for(db, recipient):
        if key and deferral.key != key:
            continue
        written += persist(db, tracker.resolve(deferral, now, by), row_id, now)
    return written
