"""Escalation (pure): when soft failures suppress an address, and when evidence is too old to.

An address is suppressed for soft failures only when they are about the address (not
SENDER_SIDE_REASONS) and fall on `escalation_threshold` distinct days within
`escalation_window` (Mailman's bounce score: counted once a day, threshold 5, stale after 7
days). A report received before an operator lifted the address's suppression never suppresses
it again (the operator's word wins; only newer evidence may).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from bouncer.core.timers import aware
from bouncer.core.tracker_types import Observation, Outcome, Policy, Standing, SuppressionRequest

# Soft failures about the sender (its IP's or domain's reputation, authentication, content,
# sending rate), not about the recipient's address: they never count toward suppressing the
# recipient. Sisimai's reason names; the split follows the providers' reply-code pages (Gmail
# 4.7.x/5.7.x, Microsoft 5.7.x, Yahoo TSS) where these replies name the sending host or message.
SENDER_SIDE_REASONS = frozenset(
    {
        "authfailure",
        "badreputation",
        "blocked",
        "contenterror",
        "exceedlimit",
        "failedstarttls",
        "mesgtoobig",
        "norelaying",
        "notcompliantrfc",
        "policyviolation",
        "rejected",
        "requireptr",
        "securityerror",
        "spamdetected",
        "speeding",
        "syntaxerror",
        "toomanyconn",
        "virusdetected",
    }
)


def count(
    outcome: Outcome, observation: Observation, now: datetime, policy: Policy, standing: Standing
) -> Outcome:
    """Count a soft failure's day toward escalation; ask for a suppression at the threshold."""
    if observation.reason in SENDER_SIDE_REASONS or stale(observation, standing):
        return outcome
    day = aware(observation.observed_at).date()
    if not escalates(standing, day, policy):
        return replace(outcome, soft_day=day)
    suppression = request(observation, "soft", now + policy.soft_ttl)
    return replace(outcome, soft_day=day, reset_soft=True, suppression=suppression)


def escalates(standing: Standing, day: date, policy: Policy) -> bool:
    """Return True when a soft failure on `day` and the counted days reach the threshold.

    Days count once each, within `escalation_window` ending on `day`.
    """
    recent = {known for known in standing.soft_days if day - known < policy.escalation_window}
    return len(recent | {day}) >= policy.escalation_threshold


def stale(observation: Observation, standing: Standing) -> bool:
    """Return True when the report was received before an operator's removal of the address."""
    removed = standing.removed_at
    return removed is not None and aware(observation.observed_at) <= aware(removed)


def request(
    observation: Observation, bounce_class: str, expires: datetime | None
) -> SuppressionRequest:
    """Return a suppression request built from the observation's address, reason and status."""
    return SuppressionRequest(
        observation.recipient,
        observation.reason,
        bounce_class,
        expires,
        observation.status,
        observation.diagnostic,
        observation.final_recipient,
    )
