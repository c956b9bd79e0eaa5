"""The deferral timers (pure): the 4-hour warning, the 4-day give-up, and closing a deferral.

A timer event's `at` is the moment it became due, or the first report after that moment when
bouncer only learned of the message then; it is never later than the `now` it is decided at.
Conventions: sendmail `Timeout.queuewarn=4h`, OpenSMTPD `bounce warn-interval 4h` / `queue ttl
4d`; RFC 5321 §4.5.4.1: give up after at least 4-5 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from bouncer.core.tracker_types import Deferral, Event, Outcome, Policy, deferral_event


def sweep(open_deferrals: Iterable[Deferral], now: datetime, policy: Policy) -> list[Outcome]:
    """Fire the timers that are due; return outcomes only for deferrals that changed."""
    outcomes = (due(deferral, now, policy) for deferral in open_deferrals if deferral.is_open)
    return [outcome for outcome in outcomes if outcome.events]


def due(deferral: Deferral, now: datetime, policy: Policy) -> Outcome:
    """Fire whichever one-time timer events are due for this deferral at `now`.

    `delivery.delayed` once at `warn_after` of age; `delivery.given_up` with `evidence: timer`
    at `give_up_at`, closing the deferral (a give-up by timer asks for no suppression).
    """
    if not deferral.is_open:
        return Outcome(deferral)
    deadline = max(give_up_at(deferral, policy), deferral.last_seen)
    events = warning(deferral, min(now, deadline), policy)
    warned = replace(deferral, warned_at=deferral.warned_at or warned_at(events))
    if now < deadline:
        return Outcome(warned, events)
    closed = close(warned, deadline, "given_up")
    given_up = deferral_event("delivery.given_up", deadline, closed, {"evidence": "timer"})
    return Outcome(closed, (*events, replace(given_up, reason="expired")))


def next_due(deferral: Deferral, policy: Policy) -> datetime | None:
    """Return when a timer of the deferral next falls due (None: closed, nothing will fire).

    The warning's time until it has fired, then the give-up's; the sweep looks only at
    deferrals whose due time has come (`due` at an earlier time would fire nothing).
    """
    if not deferral.is_open:
        return None
    deadline = max(give_up_at(deferral, policy), deferral.last_seen)
    if deferral.warned_at is None:
        return min(deferral.started_at + policy.warn_after, deadline)
    return deadline


def give_up_at(deferral: Deferral, policy: Policy) -> datetime:
    """Return when bouncer's own clock gives up on the deferral's message.

    `give_up_after` of age, postponed to the sending MTA's reported Will-Retry-Until (RFC 3464
    §2.3.9: it is still trying until then) while that is not past `retry_until_limit` of age.
    """
    deadline = deferral.started_at + policy.give_up_after
    retry_until = deferral.will_retry_until
    if retry_until is not None:
        limit = deferral.started_at + policy.retry_until_limit
        deadline = max(deadline, min(aware(retry_until), limit))
    return deadline


def warning(deferral: Deferral, now: datetime, policy: Policy) -> tuple[Event, ...]:
    """Return the owed `delivery.delayed` event (at 4 h of age, or when first seen after)."""
    due_at = deferral.started_at + policy.warn_after
    if deferral.warned_at is not None or now < due_at:
        return ()
    warned = replace(deferral, warned_at=max(due_at, deferral.opened_at))
    return (deferral_event("delivery.delayed", warned.warned_at, warned),)


def warned_at(events: Iterable[Event]) -> datetime | None:
    """Return the time of the warning among events, if one was emitted."""
    return next((e.at for e in events if e.type == "delivery.delayed"), None)


def close(deferral: Deferral, now: datetime, reason: str) -> Deferral:
    """Return the deferral closed for `reason` (no event), e.g. siblings of a hard bounce."""
    if not deferral.is_open:
        return deferral
    return replace(deferral, closed_at=now, close_reason=reason)


def settle(deferral: Deferral, latest: datetime) -> Deferral:
    """Return the deferral with no state time later than `latest` (the moment it is written).

    A sweep at a simulated future time decides as of that time, but what it writes must stay
    in order with what real time writes next (a delivery must not close a deferral "before" it
    was warned).
    """
    warned, closed = deferral.warned_at, deferral.closed_at
    return replace(
        deferral,
        warned_at=min(warned, latest) if warned else None,
        closed_at=min(closed, latest) if closed else None,
    )


def aware(moment: datetime) -> datetime:
    """Return the datetime with UTC attached when it has no time zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
