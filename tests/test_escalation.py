"""Escalation (pure): soft failures on N distinct days suppress; the operator's word wins."""

from __future__ import annotations

from datetime import date, timedelta

from bouncer.core.escalation import SENDER_SIDE_REASONS, escalates
from bouncer.core.tracker import Policy, Standing, apply
from tests.tracker_helpers import POLICY, T0, delay, soft


def _days(*numbers: int) -> frozenset[date]:
    return frozenset(T0.date() + timedelta(days=n) for n in numbers)


def test_distinct_days_within_the_window_reach_the_threshold():
    today = T0.date() + timedelta(days=6)
    assert escalates(Standing(_days(0, 1, 2, 3)), today, POLICY)
    assert not escalates(Standing(_days(0, 1, 2)), today, POLICY)
    assert not escalates(Standing(_days(0, 1, 2, 3)), today + timedelta(days=1), POLICY)
    assert not escalates(Standing(_days(6, 6)), today, POLICY)
    assert escalates(Standing(_days(5)), today, Policy(escalation_threshold=2))


def test_the_fifth_soft_day_asks_for_an_expiring_suppression():
    days: set[date] = set()
    for day in range(5):
        at = T0 + timedelta(days=day)
        outcome = apply(None, soft(at, key=f"<m{day}@app>"), at, POLICY, Standing(frozenset(days)))
        assert outcome.soft_day == at.date()
        days.add(outcome.soft_day)
        if day < 4:
            assert outcome.suppression is None and not outcome.reset_soft
    request = outcome.suppression
    assert (request.reason, request.bounce_class) == ("mailboxfull", "soft")
    assert request.expires_at == T0 + timedelta(days=4) + POLICY.soft_ttl
    assert outcome.reset_soft


def test_a_single_soft_bounce_or_a_day_of_them_suppresses_nobody():
    standing = Standing()
    for hour in range(8):
        at = T0 + timedelta(hours=hour)
        outcome = apply(None, soft(at), at, POLICY, standing)
        standing = Standing(standing.soft_days | {outcome.soft_day})
        assert outcome.suppression is None
    assert standing.soft_days == _days(0)


def test_delay_notices_count_nothing_and_suppress_nobody():
    standing = Standing(_days(-4, -3, -2, -1))
    outcome = apply(None, delay(), T0, POLICY, standing)
    assert outcome.soft_day is None and outcome.suppression is None


def test_blocks_of_the_sender_never_count_against_the_recipient():
    standing = Standing(_days(-4, -3, -2, -1))
    for reason in ("blocked", "spamdetected", "authfailure", "policyviolation", "toomanyconn"):
        assert reason in SENDER_SIDE_REASONS
        outcome = apply(None, soft(reason=reason, status="5.7.1"), T0, POLICY, standing)
        assert outcome.soft_day is None and outcome.suppression is None
        assert [e.type for e in outcome.events] == ["bounce.soft"]


def test_the_sending_mta_giving_up_counts_one_soft_day():
    standing = Standing(_days(-4, -3, -2, -1))
    gave_up = soft(action="failed", status="4.4.7", reason="expired")
    outcome = apply(None, gave_up, T0, POLICY, standing)
    assert outcome.soft_day == T0.date()
    assert outcome.suppression is not None and outcome.suppression.bounce_class == "soft"


def test_evidence_received_before_a_removal_never_suppresses():
    removed = Standing(removed_at=T0 + timedelta(minutes=5))
    hard = soft(bounce_class="hard", reason="userunknown", status="5.1.1")
    old = apply(None, hard, T0 + timedelta(hours=1), POLICY, removed)
    assert [e.type for e in old.events] == ["bounce.hard"] and old.suppression is None
    new = apply(None, soft(T0 + timedelta(minutes=6), **_hard()), T0, POLICY, removed)
    assert new.suppression is not None
    complaint = soft(kind="complaint", bounce_class="none", reason="undefined")
    assert apply(None, complaint, T0, POLICY, removed).suppression is None
    many = Standing(_days(-4, -3, -2, -1), removed_at=T0)
    assert apply(None, soft(), T0, POLICY, many).suppression is None


def _hard() -> dict:
    return {"bounce_class": "hard", "reason": "userunknown", "status": "5.1.1"}
