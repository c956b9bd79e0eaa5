"""Run the deferral state machine against the store: per entry, per sweep, per resolve.

The decisions are `bouncer.core.tracker`'s (pure); this module loads the state they need (open
deferrals, counted soft days, the operator's last removal), saves what they return, and writes
their events and suppressions, all inside the caller's transaction.

Two times reach every write: `now`, the time decisions are made at (a simulated one for
`bouncer sweep --now`), and `recorded_at`, the real time of the write. Events keep both; no
deferral state time is written later than `recorded_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from bouncer.config import TrackerConfig
from bouncer.core import tracker
from bouncer.core.holds import hold
from bouncer.core.model import Entry, Report, Verdict
from bouncer.core.timers import aware, next_due
from bouncer.core.tracker import Deferral, Event, Observation, Outcome, Policy, Standing
from bouncer.store import changes, deferrals, events, soft_failures, suppressions
from bouncer.store.suppressions import SuppressionRequest

_SOURCES = {"complaint": "complaint", "bounce.hard": "bounce"}
TICK = timedelta(milliseconds=1)  # events of one step, a millisecond apart
_NO_TIMERS = Policy()  # for outcomes that close their deferral (no due time to compute)


def policy_from(config: TrackerConfig) -> Policy:
    """Return the tracker policy the configuration asks for."""
    return Policy(
        warn_after=config.warn_after,
        give_up_after=config.give_up_after,
        retry_until_limit=config.retry_until_limit,
        escalation_threshold=config.escalation_threshold,
        escalation_window=config.escalation_window,
        soft_ttl=config.soft_ttl,
    )


def event_data(event: Event) -> dict:
    """Return the stored/emitted fields of a tracker event (besides id, type, at, recipient)."""
    original = event.original
    data = {
        "final_recipient": event.final_recipient,
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


def write_events(
    db: Database, outcome_events: tuple[Event, ...], extra: dict, recorded_at: datetime
) -> list[dict]:
    """Store tracker events in order; return them as stored."""
    return [
        events.add(db, e.type, e.at, e.recipient, {**event_data(e), **extra}, recorded_at)
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
        final_recipient=request.final_recipient,
    )
    if not suppressions.upsert(db, row, now):
        return []
    added = tracker.suppression_added(request, now)
    return write_events(db, (added,), {"source": source, **extra}, now)


def _save(
    db: Database,
    row_id: int | None,
    outcome: Outcome,
    siblings: list[tuple[int, Deferral]],
    recorded_at: datetime,
    policy: Policy,
) -> None:
    """Save the outcome's deferral with its next due time; a hard bounce or complaint also
    closes the siblings."""
    if outcome.deferral is not None:
        saved = tracker.settle(outcome.deferral, recorded_at)
        due = next_due(saved, policy)
        if due is not None:
            deferrals.set_dated_by(db, timer_settings(policy), replace=False)
        row_id = deferrals.save(db, row_id, saved, due)
    closing = outcome.deferral.close_reason if outcome.deferral else None
    if closing in ("hard", "complaint") or any(
        e.type in ("bounce.hard", "complaint") for e in outcome.events
    ):
        for sibling_id, sibling in siblings:
            if sibling_id != row_id:
                closed = tracker.close(sibling, recorded_at, closing or "hard")
                deferrals.save(db, sibling_id, closed, None)


def persist(
    db: Database,
    outcome: Outcome,
    row_id: int | None,
    now: datetime,
    policy: Policy,
    *,
    message_id: int | None = None,
    siblings: list[tuple[int, Deferral]] = (),
    recorded_at: datetime | None = None,
) -> list[dict]:
    """Save everything one outcome says; return the events written, in order."""
    recorded_at = recorded_at or now
    extra = {} if message_id is None else {"message": message_id}
    _save(db, row_id, outcome, list(siblings), recorded_at, policy)
    written = write_events(db, outcome.events, extra, recorded_at)
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
    *,
    held_by: str | None = None,
) -> list[dict]:
    """Apply one classified entry to its recipient's state; return the events written.

    `held_by`: the recipient's provider, when it was blocking the sender as the report was
    received (no suppression, no soft day, unless the status names the recipient).
    """
    observation = tracker.observe(report, entry, verdict, observed_at)
    open_rows = deferrals.open_for(db, observation.recipient, observation.final_recipient or "")
    current = tracker.match([d for _, d in open_rows], observation.key)
    row_id = next((rid for rid, d in open_rows if d is current), None)
    outcome = tracker.apply(current, observation, now, policy, standing(db, observation, policy))
    if held_by is not None:
        outcome = hold(outcome, observation, held_by)
    _count_soft(db, observation.recipient, outcome, message_id)
    written = persist(db, outcome, row_id, now, policy, message_id=message_id, siblings=open_rows)
    if outcome.lift:
        written += _lift_escalation(db, observation.recipient, now, message_id)
    return written


def standing(db: Database, observation: Observation, policy: Policy) -> Standing:
    """Return the counted soft days (in the window) and the last removal of the address."""
    day = aware(observation.observed_at).date()
    since = soft_failures.window_start(day, policy.escalation_window)
    address = observation.recipient
    return Standing(soft_failures.days(db, address, since), changes.removed_at(db, address))


def _count_soft(db: Database, address: str, outcome: Outcome, message_id: int | None) -> None:
    """Store the soft day an outcome counts, or forget the counted days when it says so."""
    if outcome.reset_soft:
        soft_failures.reset(db, address)
    elif outcome.soft_day is not None:
        soft_failures.add(db, address, outcome.soft_day, message_id)


def _lift_escalation(
    db: Database, recipient: str, now: datetime, message_id: int | None
) -> list[dict]:
    """A delivery proves the mailbox works: lift a suppression that soft failures caused
    (escalation, or an `expired` give-up suppression an earlier version added)."""
    active = suppressions.get(db, recipient, now)
    if active is None or active["source"] not in ("escalation", "expired"):
        return []
    suppressions.remove(db, recipient, now)
    removed = Event(
        "suppression.removed",
        now,
        active["address"],
        reason=active["reason"],
        bounce_class=active["class"],
        status=active["status"],
    )
    extra = {"source": "delivered", **({} if message_id is None else {"message": message_id})}
    return write_events(db, (removed,), extra, now)


def resolve(
    db: Database, recipient: str, key: str | None, now: datetime, by: str = "operator"
) -> list[dict]:
    """Close the recipient's open deferrals (only the one for key, if given); return events."""
    written: list[dict] = []
    for row_id, deferral in deferrals.open_for(db, recipient):
        if key and deferral.key != key:
            continue
        written += persist(db, tracker.resolve(deferral, now, by), row_id, now, _NO_TIMERS)
    return written


def timer_settings(policy: Policy) -> str:
    """Name the timer settings due times are computed with (seconds)."""
    spans = (policy.warn_after, policy.give_up_after, policy.retry_until_limit)
    return "/".join(f"{span.total_seconds():g}" for span in spans)
