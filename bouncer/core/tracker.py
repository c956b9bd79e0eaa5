"""The deferral state machine: reports, timers, give-ups and suppressions, decided on evidence.

Values in, values out; `now` (an aware UTC datetime) is always an argument. The store keeps the
returned state; it also turns a `SuppressionRequest` into a row and emits `suppression.added`
itself (only it knows whether the address was already suppressed), using `suppression_added()`
so that every event has the same shape.

Decision rules (README, "Decision rules"; DESIGN.md):
* hard bounce, complaint: event at once, every open deferral of the address closes, the address
  is suppressed with no expiry;
* delay notice: `delivery.deferred`, opens/updates a deferral (keeps Will-Retry-Until), counts
  nothing: a delay notice followed by silence usually means the mail was delivered;
* soft bounce: `bounce.soft`, counts one soft day, leaves no deferral open (a returned message
  is final); when it ends a message the MTA was retrying (a 4.x.x or `expired` failure, or an
  open deferral) `delivery.given_up` follows with `evidence: mta`;
* timers on an open deferral: `delivery.delayed` once at 4 h of age, `delivery.given_up` with
  `evidence: timer` once at 4 d (later when the MTA reported a later Will-Retry-Until); a give-up
  by timer suppresses nobody;
* soft failures about the address (not SENDER_SIDE_REASONS) on N distinct days within a window
  suppress it until `soft_ttl` (Mailman's bounce score); a delivery lifts that suppression;
* evidence received before an operator's removal never suppresses again;
* a bounce received while its provider was blocking the sender (a `sender.blocked` episode)
  suppresses and counts nothing unless its status names the recipient (`bouncer.core.holds`,
  applied by the caller, which knows the episodes).

The timers live in `bouncer.core.timers`, the escalation rule in `bouncer.core.escalation`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from datetime import datetime

from bouncer.core.addresses import about, bare
from bouncer.core.escalation import count, request, stale
from bouncer.core.model import Entry, Original, Report, Verdict
from bouncer.core.timers import aware, close, due, give_up_at, settle, sweep, warned_at, warning
from bouncer.core.tracker_types import (
    CLOSE_REASONS,
    EVENT_TYPES,
    OBSERVATION_KINDS,
    Deferral,
    Event,
    Observation,
    Outcome,
    Policy,
    Standing,
    SuppressionRequest,
    deferral_event,
    observation_event,
    reported_dates,
)

__all__ = [
    "close",
    "give_up_at",
    "settle",
    "sweep",
    "CLOSE_REASONS",
    "DEFAULT_POLICY",
    "Deferral",
    "EVENT_TYPES",
    "Event",
    "OBSERVATION_KINDS",
    "Observation",
    "Outcome",
    "Policy",
    "Standing",
    "SuppressionRequest",
]

_ACTION_KINDS = {"delayed": "delay", "delivered": "delivered", "relayed": "delivered"}
_REPORT_KINDS = {"bounce": "bounce", "unknown": "bounce", "delay": "delay"}

DEFAULT_POLICY = Policy()
NO_STANDING = Standing()


def observe(report: Report, entry: Entry, found: Verdict, observed_at: datetime) -> Observation:
    """Return the tracker's view of one classified entry, about the address the app sent to."""
    recipient = about(entry.address, entry.original_recipient)
    final = bare(entry.address)
    return Observation(
        recipient=recipient,
        kind=_observation_kind(report.kind, entry),
        observed_at=observed_at,
        bounce_class=found.bounce_class,
        reason=found.reason,
        key=(report.original.message_id or report.envelope_id or "").strip(),
        status=found.status or entry.status,
        action=entry.action,
        diagnostic=entry.diagnostic,
        arrival_date=report.arrival_date,
        will_retry_until=entry.will_retry_until,
        last_attempt=entry.last_attempt,
        final_recipient=None if final.lower() == recipient.lower() else final,
        original=report.original,
    )


def apply(
    deferral: Deferral | None,
    observation: Observation,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    standing: Standing = NO_STANDING,
) -> Outcome:
    """Fold one observation into the recipient's open deferral (if any) and say what follows."""
    current = deferral if deferral is not None and deferral.is_open else None
    kind, bounce_class = observation.kind, observation.bounce_class
    if kind == "complaint":
        return _terminal(current, observation, "complaint", standing)
    if kind == "delivered":
        recovered = _recovered(current, observation.observed_at, {}, observation)
        return replace(recovered, reset_soft=True, lift=True)
    if kind == "delay":
        return _deferred(current, observation, now, policy)
    if kind != "bounce" or bounce_class not in ("hard", "soft"):
        return Outcome(current)
    if bounce_class == "hard":
        return _terminal(current, observation, "bounce.hard", standing)
    return _soft(current, observation, now, policy, standing)


def resolve(deferral: Deferral, now: datetime, by: str = "operator") -> Outcome:
    """Close a deferral on an operator's or application's word, with no suppression."""
    if not deferral.is_open:
        return Outcome(deferral)
    return _recovered(deferral, now, {"by": by}, None, close_reason="resolved")


def sender_gave_up(observation: Observation) -> bool:
    """Return True for a failed report that ends a message on a temporary error.

    A `failed` action with a 4.x.x status (RFC 3464 §2.3.3: the MTA stopped retrying), or one
    whose reason is `expired` (e.g. 5.4.7 "delivery time expired", "retry timeout exceeded").
    """
    if (observation.action or "").lower() != "failed":
        return False
    return (observation.status or "").startswith("4.") or observation.reason == "expired"


def match(open_deferrals: Iterable[Deferral], key: str) -> Deferral | None:
    """Pick the open deferral (of one address) an observation belongs to.

    The same original-message key wins; when either side has no key, the most recently seen
    open deferral matches.
    """
    candidates = [d for d in open_deferrals if d.is_open]
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
        final_recipient=request.final_recipient,
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


def _deferred(
    current: Deferral | None, observation: Observation, now: datetime, policy: Policy
) -> Outcome:
    """Record a delay notice: `delivery.deferred`, then whichever timer is due."""
    recorded = _record(current, observation, policy)
    dates = reported_dates(recorded)
    deferred = observation_event("delivery.deferred", observation, recorded, dates)
    timers = due(recorded, now, policy)
    return Outcome(timers.deferral, (deferred, *timers.events))


def _soft(
    current: Deferral | None,
    observation: Observation,
    now: datetime,
    policy: Policy,
    standing: Standing,
) -> Outcome:
    """Record a soft bounce: `bounce.soft`, one soft day, maybe escalation.

    A returned message is final (RFC 3464 §2.3.3: `failed` means the MTA stopped trying), so no
    deferral stays open for it. When it ends a message the MTA had been retrying (a 4.x.x or
    `expired` failure, or a message with an open deferral), `delivery.given_up` follows with
    `evidence: mta`, after the 4-hour warning if that was never sent.
    """
    soft = observation_event("bounce.soft", observation, current)
    if current is None and not sender_gave_up(observation):
        return count(Outcome(None, (soft,)), observation, now, policy, standing)
    recorded = _record(current, observation, policy)
    at = recorded.last_seen
    events = warning(recorded, at, policy)
    warned = replace(recorded, warned_at=recorded.warned_at or warned_at(events))
    closed = close(warned, at, "given_up")
    evidence = {"evidence": "mta", **reported_dates(closed)}
    given_up = observation_event("delivery.given_up", observation, closed, evidence)
    outcome = Outcome(closed, (soft, *events, given_up))
    return count(outcome, observation, now, policy, standing)


def _terminal(
    current: Deferral | None, observation: Observation, event_type: str, standing: Standing
) -> Outcome:
    """Handle a hard bounce or complaint: close, emit, and ask for a permanent suppression."""
    close_reason = "complaint" if event_type == "complaint" else "hard"
    event = observation_event(event_type, observation, current)
    closed = None if current is None else close(current, observation.observed_at, close_reason)
    if stale(observation, standing):
        return Outcome(closed, (event,))
    reason = observation.reason
    if close_reason == "complaint" and reason in ("", "undefined"):
        reason = "feedback"
    asked = replace(request(observation, "hard", None), reason=reason)
    return Outcome(closed, (event,), asked)


def _recovered(
    current: Deferral | None,
    at: datetime,
    data: Mapping[str, str],
    delivered: Observation | None,
    close_reason: str = "recovered",
) -> Outcome:
    """Close an open deferral as delivered (the delivery report's status and text) or resolved,
    and emit `delivery.recovered`."""
    if current is None:
        return Outcome(None)
    closed = close(current, max(at, current.last_seen), close_reason)
    event = deferral_event("delivery.recovered", closed.closed_at, closed, dict(data))
    recovered = replace(
        event,
        bounce_class="none",
        reason="delivered" if delivered else None,
        status=delivered.status if delivered else None,
        diagnostic=delivered.diagnostic if delivered else None,
    )
    return Outcome(closed, (recovered,))


def _record(current: Deferral | None, observation: Observation, policy: Policy) -> Deferral:
    """Open a deferral for this observation, or update the open one with it."""
    seen = aware(observation.observed_at)
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
        final_recipient=current.final_recipient or observation.final_recipient,
        will_retry_until=observation.will_retry_until or current.will_retry_until,
        last_attempt=observation.last_attempt or current.last_attempt,
    )


def _plausible_arrival(
    arrival: datetime | None, seen: datetime, first_failure: datetime, policy: Policy
) -> datetime | None:
    """Return the Arrival-Date when it is neither in the future nor far before the failure."""
    if arrival is None:
        return None
    arrival = aware(arrival)
    too_new = arrival > seen
    too_old = arrival < first_failure - policy.arrival_max_age
    return None if too_new or too_old else arrival


def _merge_original(known: Original, new: Original) -> Original:
    """Keep the known original headers, filling gaps from the new report."""
    merged = {f.name: getattr(known, f.name) or getattr(new, f.name) for f in fields(Original)}
    return Original(**merged)
