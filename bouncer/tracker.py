"""The deferral state machine: soft failures, delay warnings, give-ups and suppressions (pure).

Values in, values out; `now` (an aware UTC datetime) is always an argument. The store keeps the
returned state; it also turns a `SuppressionRequest` into a row and emits `suppression.added`
itself (only it knows whether the address was already suppressed), using `suppression_added()`
so that every event has the same shape.

Timers count from `Deferral.started_at`: the DSN's Arrival-Date when plausible, else the first
failure seen. A deferral that is already past both thresholds when it is swept or observed (after
a downtime) emits `delivery.delayed` and then `delivery.given_up`, in that order, each once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from datetime import UTC, date, datetime

from bouncer.addresses import normalize
from bouncer.model import Entry, Original, Report, Verdict
from bouncer.tracker_types import (
    CLOSE_REASONS,
    EVENT_TYPES,
    OBSERVATION_KINDS,
    BounceScore,
    Deferral,
    Event,
    Observation,
    Outcome,
    Policy,
    SuppressionRequest,
    deferral_event,
    observation_event,
)

__all__ = [
    "BounceScore",
    "CLOSE_REASONS",
    "Deferral",
    "EVENT_TYPES",
    "Event",
    "OBSERVATION_KINDS",
    "Observation",
    "Outcome",
    "Policy",
    "SuppressionRequest",
    "DEFAULT_POLICY",
]

_ACTION_KINDS = {"delayed": "delay", "delivered": "delivered", "relayed": "delivered"}
_REPORT_KINDS = {"bounce": "bounce", "unknown": "bounce", "delay": "delay"}

DEFAULT_POLICY = Policy()


def observe(
    report: Report,
    entry: Entry,
    found: Verdict,
    observed_at: datetime,
    recipient: str | None = None,
) -> Observation:
    """Return the tracker's view of one classified entry (recipient: ORCPT, else final)."""
    return Observation(
        recipient=recipient or normalize(entry.original_recipient or entry.address),
        kind=_observation_kind(report.kind, entry),
        observed_at=observed_at,
        bounce_class=found.bounce_class,
        reason=found.reason,
        key=(report.original.message_id or report.envelope_id or "").strip(),
        status=found.status or entry.status,
        action=entry.action,
        diagnostic=entry.diagnostic,
        arrival_date=report.arrival_date,
        original=report.original,
    )


def apply(
    deferral: Deferral | None,
    observation: Observation,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    score: BounceScore | None = None,
) -> Outcome:
    """Fold one observation into the recipient's open deferral (if any) and say what follows."""
    current = deferral if deferral is not None and deferral.is_open else None
    kind, bounce_class = observation.kind, observation.bounce_class
    if kind == "complaint":
        return _terminal(current, observation, "complaint", "complaint")
    if kind == "delivered":
        return _recovered(current, observation.observed_at, {}, observation.status)
    if kind == "delay":
        return _due(_record(current, observation, policy), now, policy)
    if kind != "bounce" or bounce_class not in ("hard", "soft"):
        return Outcome(current)
    if bounce_class == "hard":
        return _terminal(current, observation, "bounce.hard", "hard")
    return _soft(current, observation, now, policy, score or BounceScore())


def sweep(
    open_deferrals: Iterable[Deferral], now: datetime, policy: Policy = DEFAULT_POLICY
) -> list[Outcome]:
    """Fire the timers that are due; return outcomes only for deferrals that changed."""
    outcomes = (_due(deferral, now, policy) for deferral in open_deferrals if deferral.is_open)
    return [outcome for outcome in outcomes if outcome.events]


def resolve(deferral: Deferral, now: datetime, by: str = "operator") -> Outcome:
    """Close a deferral on an operator's or application's word, with no suppression."""
    if not deferral.is_open:
        return Outcome(deferral)
    return _recovered(deferral, now, {"by": by}, None, close_reason="resolved")


def close(deferral: Deferral, now: datetime, reason: str) -> Deferral:
    """Return the deferral closed for `reason` (no event), e.g. siblings of a hard bounce."""
    if not deferral.is_open:
        return deferral
    return replace(deferral, closed_at=now, close_reason=reason)


def score_bounce(score: BounceScore, day: date, policy: Policy = DEFAULT_POLICY) -> BounceScore:
    """Count a soft bounce on `day`: once per calendar day, restarting when the score is stale."""
    last_day = score.last_day
    if last_day is None or day - last_day > policy.escalation_window:
        return BounceScore(1, day)
    if day <= last_day:
        return score
    return BounceScore(score.score + 1, day)


def escalated(score: BounceScore, policy: Policy = DEFAULT_POLICY) -> bool:
    """Return True when the bounce score has reached the escalation threshold."""
    return score.score >= policy.escalation_threshold


def match(open_deferrals: Iterable[Deferral], recipient: str, key: str) -> Deferral | None:
    """Pick the open deferral an observation belongs to: same key, else a keyless match.

    When either side has no key, the most recently seen open deferral of the recipient matches.
    """
    candidates = [d for d in open_deferrals if d.is_open and d.recipient == recipient]
    exact = [d for d in candidates if d.key == key]
    loose = exact or [d for d in candidates if not d.key or not key]
    return max(loose, key=lambda d: d.last_seen, default=None)


def suppression_added(request: SuppressionRequest, at: datetime) -> Event:
    """Return the `suppression.added` event for a suppression the store has just written."""
    expires = {} if request.expires_at is None else {"expires_at": request.expires_at}
    return Event(
        "suppression.added",
        at,
        request.address,
        status=request.status,
        reason=request.reason,
        bounce_class=request.bounce_class,
        diagnostic=request.diagnostic,
        data=expires,
    )


def _observation_kind(report_kind: str, entry: Entry) -> str:
    """Return the observation kind: the entry's action first, then the report's kind."""
    if report_kind == "complaint":
        return "other" if (entry.feedback_type or "").lower() == "not-spam" else "complaint"
    if report_kind in ("autoreply", "delivered"):
        return report_kind
    by_action = _ACTION_KINDS.get((entry.action or "").lower())
    return by_action or _REPORT_KINDS.get(report_kind, "other")


def _soft(
    current: Deferral | None,
    observation: Observation,
    now: datetime,
    policy: Policy,
    score: BounceScore,
) -> Outcome:
    """Record a soft bounce: open/update, fire due timers, count the score, maybe escalate."""
    recorded = _record(current, observation, policy)
    scored = score_bounce(score, _aware(observation.observed_at).date(), policy)
    if _sender_gave_up(observation):
        due, first = _give_up(recorded, now, policy), ()
    else:
        due = _due(recorded, now, policy)
        first = (observation_event("bounce.soft", observation, recorded),)
    suppression = due.suppression
    if suppression is None and escalated(scored, policy):
        suppression = _request(observation, "soft", now + policy.soft_ttl)
    if suppression is not None:
        scored = BounceScore(0, scored.last_day)
    return Outcome(due.deferral, first + due.events, suppression, scored)


def _sender_gave_up(observation: Observation) -> bool:
    """Return True for a failed report with a 4.x.x status: the MTA gave up on retrying."""
    status = observation.status or ""
    return (observation.action or "").lower() == "failed" and status.startswith("4.")


def _terminal(
    current: Deferral | None, observation: Observation, event_type: str, close_reason: str
) -> Outcome:
    """Handle a hard bounce or complaint: close, emit, and ask for a permanent suppression."""
    event = observation_event(event_type, observation, current)
    closed = None if current is None else close(current, observation.observed_at, close_reason)
    reason = observation.reason
    if close_reason == "complaint" and reason in ("", "undefined"):
        reason = "feedback"
    request = replace(_request(observation, "hard", None), reason=reason)
    return Outcome(closed, (event,), request)


def _recovered(
    current: Deferral | None,
    at: datetime,
    data: Mapping[str, str],
    status: str | None,
    close_reason: str = "recovered",
) -> Outcome:
    """Close an open deferral as delivered (or resolved) and emit `delivery.recovered`."""
    if current is None:
        return Outcome(None)
    closed = close(current, at, close_reason)
    event = deferral_event("delivery.recovered", at, closed, dict(data))
    reason = "delivered" if close_reason == "recovered" else None
    recovered = replace(event, bounce_class="none", reason=reason, status=status)
    return Outcome(closed, (recovered,))


def _due(deferral: Deferral, now: datetime, policy: Policy) -> Outcome:
    """Fire whichever one-time timer events are due for this deferral at `now`."""
    if not deferral.is_open:
        return Outcome(deferral)
    age = deferral.age(now)
    if age >= policy.give_up_after:
        return _give_up(deferral, now, policy)
    if age >= policy.warn_after and deferral.warned_at is None:
        warned = replace(deferral, warned_at=now)
        return Outcome(warned, (deferral_event("delivery.delayed", now, warned),))
    return Outcome(deferral)


def _give_up(deferral: Deferral, now: datetime, policy: Policy) -> Outcome:
    """Close as given up (warning first if one is owed) and ask for an expiring suppression."""
    events: list[Event] = []
    if deferral.warned_at is None and deferral.age(now) >= policy.warn_after:
        deferral = replace(deferral, warned_at=now)
        events.append(deferral_event("delivery.delayed", now, deferral))
    closed = close(deferral, now, "given_up")
    given_up = deferral_event("delivery.given_up", now, closed)
    events.append(replace(given_up, reason="expired"))
    request = SuppressionRequest(
        closed.recipient,
        "expired",
        "soft",
        now + policy.expired_ttl,
        closed.last_status,
        closed.last_diagnostic,
    )
    return Outcome(closed, tuple(events), request)


def _record(current: Deferral | None, observation: Observation, policy: Policy) -> Deferral:
    """Open a deferral for this observation, or update the open one with it."""
    seen = _aware(observation.observed_at)
    first_failure = seen if current is None else current.opened_at
    arrival = _plausible_arrival(observation.arrival_date, seen, first_failure, policy)
    if current is None:
        current = Deferral(observation.recipient, observation.key, seen, seen, seen, attempts=0)
    return replace(
        current,
        started_at=min(current.started_at, arrival) if arrival else current.started_at,
        last_seen=max(current.last_seen, seen),
        attempts=current.attempts + 1,
        last_status=observation.status or current.last_status,
        last_diagnostic=observation.diagnostic or current.last_diagnostic,
        last_reason=observation.reason or current.last_reason,
        original=_merge_original(current.original, observation.original),
    )


def _plausible_arrival(
    arrival: datetime | None, seen: datetime, first_failure: datetime, policy: Policy
) -> datetime | None:
    """Return the Arrival-Date when it is neither in the future nor far before the failure."""
    if arrival is None:
        return None
    arrival = _aware(arrival)
    too_new = arrival > seen
    too_old = arrival < first_failure - policy.arrival_max_age
    return None if too_new or too_old else arrival


def _merge_original(known: Original, new: Original) -> Original:
    """Keep the known original headers, filling gaps from the new report."""
    merged = {f.name: getattr(known, f.name) or getattr(new, f.name) for f in fields(Original)}
    return Original(**merged)


def _request(observation: Observation, bounce_class: str, expires: datetime | None):
    """Return a suppression request built from the observation's address, reason and status."""
    return SuppressionRequest(
        observation.recipient,
        observation.reason,
        bounce_class,
        expires,
        observation.status,
        observation.diagnostic,
    )


def _aware(moment: datetime) -> datetime:
    """Return the datetime with UTC attached when it has no time zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
