"""Observations and deferrals for the pure tracker tests, all dated from one fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bouncer.core.model import Original
from bouncer.core.tracker import Deferral, Observation, Policy, apply

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = Policy()
ORIGINAL = Original(message_id="<m1@app.example>", from_addr="news@app.example", subject="Hi")


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def soft(at: datetime = T0, **changes: object) -> Observation:
    """A mailbox-full soft bounce (failed 5.2.2) for ann@example.org."""
    fields = {
        "recipient": "ann@example.org",
        "kind": "bounce",
        "observed_at": at,
        "bounce_class": "soft",
        "reason": "mailboxfull",
        "key": "<m1@app.example>",
        "status": "5.2.2",
        "action": "failed",
        "diagnostic": "552 5.2.2 Mailbox full",
        "original": ORIGINAL,
    }
    fields.update(changes)
    return Observation(**fields)


def delay(at: datetime = T0, **changes: object) -> Observation:
    """A delay notice (delayed 4.2.2) for ann@example.org."""
    changes = {"status": "4.2.2", "action": "delayed", **changes}
    return soft(at, kind="delay", **changes)


def opened(at: datetime = T0, **changes: object) -> Deferral:
    """The deferral a delay notice at `at` opens."""
    deferral = apply(None, delay(at, **changes), at, POLICY).deferral
    assert deferral is not None
    return deferral


def types(outcome_events) -> list[str]:  # noqa: ANN001
    """The event types, in order."""
    return [event.type for event in outcome_events]
