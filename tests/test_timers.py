"""The 4-hour warning and the 4-day give-up (pure), driven by a fake clock."""

from __future__ import annotations

from datetime import timedelta

from bouncer.core.timers import close, give_up_at, settle, sweep
from bouncer.core.tracker import Policy, apply
from tests.tracker_helpers import POLICY, T0, FakeClock, delay, opened, types


def test_sweep_before_four_hours_does_nothing():
    clock = FakeClock(T0)
    assert sweep([opened()], clock.advance(hours=3, minutes=59), POLICY) == []


def test_sweep_after_four_hours_warns_once_at_the_moment_it_became_due():
    clock = FakeClock(T0)
    outcomes = sweep([opened()], clock.advance(hours=4, minutes=1), POLICY)
    assert len(outcomes) == 1
    assert types(outcomes[0].events) == ["delivery.delayed"]
    event, warned = outcomes[0].events[0], outcomes[0].deferral
    assert event.at == T0 + timedelta(hours=4) == warned.warned_at
    assert event.age == timedelta(hours=4)
    assert warned.is_open
    assert sweep([warned], clock.now, POLICY) == []
    assert sweep([warned], clock.advance(hours=20), POLICY) == []


def test_give_up_by_timer_says_so_and_suppresses_nobody():
    clock = FakeClock(T0)
    warned = sweep([opened()], clock.advance(hours=5), POLICY)[0].deferral
    outcome = sweep([warned], clock.advance(days=4), POLICY)[0]
    assert types(outcome.events) == ["delivery.given_up"]
    given_up = outcome.events[0]
    assert given_up.data == {"evidence": "timer"}
    assert (given_up.reason, given_up.status) == ("expired", "4.2.2")
    assert given_up.at == T0 + timedelta(days=4) == outcome.deferral.closed_at
    assert outcome.deferral.close_reason == "given_up"
    assert outcome.suppression is None and outcome.soft_day is None
    assert sweep([outcome.deferral], clock.advance(days=1), POLICY) == []


def test_catch_up_after_downtime_emits_delayed_then_given_up_in_order():
    outcomes = sweep([opened()], T0 + timedelta(days=5), POLICY)
    assert types(outcomes[0].events) == ["delivery.delayed", "delivery.given_up"]
    assert [e.at for e in outcomes[0].events] == [
        T0 + timedelta(hours=4),
        T0 + timedelta(days=4),
    ]
    assert outcomes[0].suppression is None
    assert sweep([outcomes[0].deferral], T0 + timedelta(days=5), POLICY) == []


def test_sweep_returns_only_changed_deferrals():
    old = opened()
    young = opened(T0 + timedelta(hours=3), recipient="bob@example.org")
    outcomes = sweep([old, young], T0 + timedelta(hours=5), POLICY)
    assert [outcome.deferral.recipient for outcome in outcomes] == ["ann@example.org"]


def test_custom_policy_thresholds():
    policy = Policy(warn_after=timedelta(minutes=10), give_up_after=timedelta(hours=1))
    deferral = opened()
    assert types(sweep([deferral], T0 + timedelta(minutes=11), policy)[0].events) == [
        "delivery.delayed"
    ]
    assert types(sweep([deferral], T0 + timedelta(hours=1), policy)[0].events) == [
        "delivery.delayed",
        "delivery.given_up",
    ]


def test_will_retry_until_postpones_the_give_up_up_to_the_limit():
    five_days = opened(will_retry_until=T0 + timedelta(days=5))
    assert give_up_at(five_days, POLICY) == T0 + timedelta(days=5)
    assert sweep([five_days], T0 + timedelta(days=4, hours=1), POLICY)[0].deferral.is_open
    outcome = sweep([five_days], T0 + timedelta(days=5), POLICY)[0]
    assert types(outcome.events) == ["delivery.delayed", "delivery.given_up"]
    assert outcome.events[1].data == {
        "will_retry_until": T0 + timedelta(days=5),
        "evidence": "timer",
    }
    forever = opened(will_retry_until=T0 + timedelta(days=90))
    assert give_up_at(forever, POLICY) == T0 + POLICY.retry_until_limit
    early = opened(will_retry_until=T0 + timedelta(days=1))
    assert give_up_at(early, POLICY) == T0 + POLICY.give_up_after


def test_a_report_after_the_deadline_gives_up_when_it_is_seen():
    deferral = opened()
    later = T0 + timedelta(days=4, hours=1)
    outcome = apply(deferral, delay(later), later, POLICY)
    assert types(outcome.events) == [
        "delivery.deferred",
        "delivery.delayed",
        "delivery.given_up",
    ]
    assert outcome.events[2].at == later == outcome.deferral.closed_at
    assert outcome.events[2].data == {"evidence": "timer"}
    assert not outcome.deferral.is_open


def test_observation_past_the_warning_fires_it_once():
    deferral = opened()
    later = T0 + timedelta(hours=6)
    outcome = apply(deferral, delay(later), later, POLICY)
    assert types(outcome.events) == ["delivery.deferred", "delivery.delayed"]
    again = apply(outcome.deferral, delay(later), later + timedelta(hours=1), POLICY)
    assert types(again.events) == ["delivery.deferred"]


def test_settle_keeps_state_times_at_or_before_the_write():
    future = T0 + timedelta(days=5)
    given_up = sweep([opened()], future, POLICY)[0].deferral
    settled = settle(given_up, T0 + timedelta(minutes=1))
    assert settled.warned_at == settled.closed_at == T0 + timedelta(minutes=1)
    assert settle(given_up, future) == given_up
    assert settle(opened(), T0).warned_at is None


def test_close_leaves_a_closed_deferral_alone():
    closed = close(opened(), T0, "recovered")
    assert close(closed, T0 + timedelta(days=1), "hard") == closed
