"""Value types of the deferral state machine, and the builders of the events it emits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bouncer.core.model import Original

EVENT_TYPES = (
    "bounce.hard",
    "bounce.soft",
    "delivery.deferred",
    "delivery.delayed",
    "delivery.given_up",
    "delivery.recovered",
    "complaint",
    "suppression.added",
    "suppression.removed",
    "suppression.expired",
    "failures.spike",
    "failures.spike_ended",
    "sender.blocked",
    "sender.blocked_ended",
)
OBSERVATION_KINDS = ("bounce", "delay", "delivered", "complaint", "autoreply", "other")
CLOSE_REASONS = ("recovered", "hard", "complaint", "resolved", "given_up")
EVIDENCE = ("mta", "timer")  # what ended a message: the sending MTA's report, or bouncer's clock


@dataclass(frozen=True, slots=True)
class Policy:
    """Timer and escalation settings (defaults follow OpenSMTPD, RFC 5321 §4.5.4.1 and Mailman).

    `retry_until_limit`: a delay report's Will-Retry-Until postpones bouncer's own give-up (the
    sending MTA is still trying), but never past this age of the message.
    """

    warn_after: timedelta = timedelta(hours=4)
    give_up_after: timedelta = timedelta(days=4)
    retry_until_limit: timedelta = timedelta(days=7)
    escalation_threshold: int = 5
    escalation_window: timedelta = timedelta(days=7)
    soft_ttl: timedelta = timedelta(days=7)
    arrival_max_age: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one processed report entry says about one recipient.

    `recipient` is the address the report is about (the one the application sent to), as
    written; `final_recipient` the report's Final-Recipient when it differs. `observed_at` is
    when bouncer received the report.
    """

    recipient: str
    kind: str  # one of OBSERVATION_KINDS
    observed_at: datetime
    bounce_class: str = "none"  # hard | soft | none
    reason: str = "undefined"
    key: str = ""  # original Message-ID, else ENVID, else "" (recipient alone)
    status: str | None = None
    action: str | None = None
    diagnostic: str | None = None
    arrival_date: datetime | None = None
    will_retry_until: datetime | None = None
    last_attempt: datetime | None = None
    final_recipient: str | None = None
    original: Original = field(default_factory=Original)


@dataclass(frozen=True, slots=True)
class Deferral:
    """An open (or closed) run of soft failures for one recipient and original message."""

    recipient: str
    key: str
    opened_at: datetime  # first failure seen
    started_at: datetime  # age origin: plausible Arrival-Date, else opened_at
    last_seen: datetime
    attempts: int = 1
    last_status: str | None = None
    last_diagnostic: str | None = None
    last_reason: str | None = None
    original: Original = field(default_factory=Original)
    final_recipient: str | None = None
    will_retry_until: datetime | None = None  # the sending MTA's own deadline, when reported
    last_attempt: datetime | None = None  # the sending MTA's last try, when reported
    warned_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None  # one of CLOSE_REASONS

    @property
    def is_open(self) -> bool:
        """Return True while the deferral is not closed."""
        return self.closed_at is None

    def age(self, now: datetime) -> timedelta:
        """Return how long the original message has been undelivered at `now`."""
        return now - self.started_at


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, to be stored and emitted once; `at` is the time it describes."""

    type: str  # one of EVENT_TYPES
    at: datetime
    recipient: str | None  # None for an alert about many recipients
    original: Original = field(default_factory=Original)
    status: str | None = None
    reason: str | None = None
    bounce_class: str | None = None
    diagnostic: str | None = None
    attempts: int | None = None
    age: timedelta | None = None
    final_recipient: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)  # extras, e.g. {"evidence": ...}


@dataclass(frozen=True, slots=True)
class SuppressionRequest:
    """Ask the store to suppress an address; expires_at None means never."""

    address: str
    reason: str
    bounce_class: str  # hard | soft
    expires_at: datetime | None
    status: str | None = None
    diagnostic: str | None = None
    final_recipient: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """What the store knows about an address beyond its deferrals.

    `soft_days`: the days (UTC) on which a counted soft failure was received, since the last
    escalation, delivery or removal; `removed_at`: when an operator last lifted its suppression
    (evidence received before that may not suppress it again).
    """

    soft_days: frozenset[date] = frozenset()
    removed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one step: new deferral state, events in order, and what to ask the store.

    `deferral` is None when no deferral is involved; a closed one has `closed_at` set.
    `soft_day`: count a soft failure on this day; `reset_soft`: forget the counted days (after
    an escalation or a delivery); `lift`: a delivery lifts an escalation's suppression.
    """

    deferral: Deferral | None
    events: tuple[Event, ...] = ()
    suppression: SuppressionRequest | None = None
    soft_day: date | None = None
    reset_soft: bool = False
    lift: bool = False


def observation_event(
    event_type: str,
    observation: Observation,
    deferral: Deferral | None,
    data: Mapping[str, object] | None = None,
) -> Event:
    """Return an event describing an observation (attempts and age from its deferral)."""
    at = observation.observed_at
    return Event(
        event_type,
        at,
        observation.recipient,
        original=observation.original,
        status=observation.status,
        reason=observation.reason,
        bounce_class=observation.bounce_class,
        diagnostic=observation.diagnostic,
        attempts=None if deferral is None else deferral.attempts,
        age=None if deferral is None else deferral.age(at),
        final_recipient=observation.final_recipient,
        data=dict(data or {}),
    )


def deferral_event(
    event_type: str, at: datetime, deferral: Deferral, data: Mapping[str, object] | None = None
) -> Event:
    """Return an event describing a deferral's state at `at` (with the MTA's own dates)."""
    return Event(
        event_type,
        at,
        deferral.recipient,
        original=deferral.original,
        status=deferral.last_status,
        reason=deferral.last_reason,
        bounce_class="soft",
        diagnostic=deferral.last_diagnostic,
        attempts=deferral.attempts,
        age=deferral.age(at),
        final_recipient=deferral.final_recipient,
        data={**reported_dates(deferral), **(data or {})},
    )


def reported_dates(deferral: Deferral) -> dict[str, datetime]:
    """Return the sending MTA's own dates a deferral holds (RFC 3464 §2.3.4, §2.3.9)."""
    dates = {
        "will_retry_until": deferral.will_retry_until,
        "last_attempt_at": deferral.last_attempt,
    }
    return {name: value for name, value in dates.items() if value is not None}
