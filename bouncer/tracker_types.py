"""Value types of the deferral state machine, and the builders of the events it emits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bouncer.model import Original

EVENT_TYPES = (
    "bounce.hard",
    "bounce.soft",
    "delivery.delayed",
    "delivery.given_up",
    "delivery.recovered",
    "complaint",
    "suppression.added",
    "suppression.removed",
    "suppression.expired",
)
OBSERVATION_KINDS = ("bounce", "delay", "delivered", "complaint", "autoreply", "other")
CLOSE_REASONS = ("recovered", "hard", "complaint", "resolved", "given_up")


@dataclass(frozen=True, slots=True)
class Policy:
    """Timer and escalation settings (defaults follow OpenSMTPD and Mailman)."""

    warn_after: timedelta = timedelta(hours=4)
    give_up_after: timedelta = timedelta(days=4)
    expired_ttl: timedelta = timedelta(days=14)
    escalation_threshold: int = 5
    escalation_window: timedelta = timedelta(days=7)
    soft_ttl: timedelta = timedelta(days=7)
    arrival_max_age: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one processed report entry says about one recipient."""

    recipient: str  # normalized address
    kind: str  # one of OBSERVATION_KINDS
    observed_at: datetime  # when bouncer received the report
    bounce_class: str = "none"  # hard | soft | none
    reason: str = "undefined"
    key: str = ""  # original Message-ID, else ENVID, else "" (recipient alone)
    status: str | None = None
    action: str | None = None
    diagnostic: str | None = None
    arrival_date: datetime | None = None
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
    """Something that happened, to be stored and emitted once."""

    type: str  # one of EVENT_TYPES
    at: datetime
    recipient: str
    original: Original = field(default_factory=Original)
    status: str | None = None
    reason: str | None = None
    bounce_class: str | None = None
    diagnostic: str | None = None
    attempts: int | None = None
    age: timedelta | None = None
    data: Mapping[str, object] = field(default_factory=dict)  # extras, e.g. {"by": ...}


@dataclass(frozen=True, slots=True)
class SuppressionRequest:
    """Ask the store to suppress an address; expires_at None means never."""

    address: str
    reason: str
    bounce_class: str  # hard | soft
    expires_at: datetime | None
    status: str | None = None
    diagnostic: str | None = None


@dataclass(frozen=True, slots=True)
class BounceScore:
    """Mailman-style bounce score of one recipient: soft-bounce days counted once per day."""

    score: int = 0
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one step: new deferral state, events in order, and a suppression to add.

    `deferral` is None when no deferral is involved; a closed one has `closed_at` set.
    `score` is the recipient's new bounce score, or None when it did not change.
    """

    deferral: Deferral | None
    events: tuple[Event, ...] = ()
    suppression: SuppressionRequest | None = None
    score: BounceScore | None = None


def observation_event(
    event_type: str, observation: Observation, deferral: Deferral | None
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
    )


def deferral_event(
    event_type: str, at: datetime, deferral: Deferral, data: Mapping[str, str] | None = None
) -> Event:
    """Return an event describing a deferral's state at `at`."""
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
        data=dict(data or {}),
    )
