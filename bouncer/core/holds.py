"""While a provider refuses the sender, its failures do not suppress its recipients (pure).

During a `sender.blocked` episode at a receiving provider, what that provider answers is about
the sender (its IP, domain or reputation), not about the recipients, even when a reply looks
hard: a provider refusing a sender may answer each recipient with a policy reply that reads
like an address problem ("550 5.7.1 Recipient address rejected: Access denied", a bare "550
mailbox unavailable": both classify as userunknown), or drop connections until the sending
MTA gives up with 4.4.x. So a bounce from that provider, for a report received while the
episode was open, neither suppresses the recipient nor counts toward escalation, unless its
RFC 3463 status names the recipient's address or mailbox (`names_the_recipient`): an explicit
5.1.1 "user unknown" or 5.2.2 "mailbox full" still counts as ever. The record, its class and
its event stay as the classifier says; the event carries `held_by` and `provider` so that an
application acting on `bounce.hard` itself can hold off too. Complaints and deliveries are
never held (README, "Decision rules").
"""

from __future__ import annotations

from dataclasses import replace

from bouncer.core.tracker_types import Event, Observation, Outcome

HELD_BY = "sender.blocked"
_OBSERVED = ("bounce.hard", "bounce.soft", "delivery.given_up")  # the events a bounce emits
_SENDERS_ADDRESS = ("1.7", "1.8")  # X.1.7 / X.1.8: bad sender's mailbox / system address
_OWNER_CHANGED = ("7.17", "7.18")  # RFC 7293: mailbox / domain owner has changed


def names_the_recipient(status: str | None) -> bool:
    """Tell whether an RFC 3463 status is about the recipient's address or mailbox.

    X.1.x is addressing status (§3.3) except X.1.7/X.1.8 (the sender's address), X.2.x
    mailbox status (§3.4), X.7.17/X.7.18 the owner of the mailbox or domain changed
    (RFC 7293). Anything else (X.0.0, X.4.x network, X.7.x policy, none) is not.
    """
    _, _, detail = (status or "").partition(".")
    subject = detail.partition(".")[0]
    if detail in _SENDERS_ADDRESS:
        return False
    return subject in ("1", "2") or detail in _OWNER_CHANGED


def withheld(kind: str, status: str | None) -> bool:
    """Tell whether a report of this kind and status, about a recipient at a provider that
    was blocking the sender when it was received, is held back: a bounce whose status does
    not name the recipient (a complaint or delivery never is).

    `kind` is an observation's kind or a report's (an `unknown` report is read as a bounce).
    """
    return kind in ("bounce", "unknown") and not names_the_recipient(status)


def hold(outcome: Outcome, observation: Observation, provider: str) -> Outcome:
    """Return the outcome of a bounce received during a `sender.blocked` episode at its
    provider: no suppression and no soft day counted, unless the status names the recipient.

    Only what would have suppressed or counted is held; then the observation's events are
    marked `held_by: sender.blocked` with the provider. Other outcomes are returned unchanged.
    """
    if not withheld(observation.kind, observation.status):
        return outcome
    if outcome.suppression is None and outcome.soft_day is None:
        return outcome
    marks = {"held_by": HELD_BY, "provider": provider}
    events = tuple(_marked(event, marks) for event in outcome.events)
    return replace(outcome, events=events, suppression=None, soft_day=None, reset_soft=False)


def _marked(event: Event, marks: dict[str, str]) -> Event:
    """Return an observation's event with the hold marks in its data (others unchanged)."""
    return replace(event, data={**event.data, **marks}) if event.type in _OBSERVED else event
