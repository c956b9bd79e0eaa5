"""Unit tests for the deferral state machine, driven by a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bouncer.model import Entry, Original, Report, Verdict
from bouncer.tracker import (
    BounceScore,
    Deferral,
    Observation,
    Policy,
    apply,
    close,
    escalated,
    match,
    observe,
    resolve,
    score_bounce,
    suppression_added,
    sweep,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = Policy()
ORIGINAL = Original(message_id="<m1@app.example>", from_addr="news@app.example", subject="Hi")


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def soft(at: datetime = T0, **changes: object) -> Observation:
    fields = {
        "recipient": "ann@example.org",
        "kind": "bounce",
        "observed_at": at,
        "bounce_class": "soft",
        "reason": "mailboxfull",
        "key": "<m1@app.example>",
        "status": "4.2.2",
        "action": "delayed",
        "diagnostic": "452 4.2.2 Mailbox full",
        "original": ORIGINAL,
    }
    fields.update(changes)
    return Observation(**fields)


def delay(at: datetime = T0, **changes: object) -> Observation:
    return soft(at, kind="delay", **changes)


def opened(at: datetime = T0, **changes: object) -> Deferral:
    deferral = apply(None, delay(at, **changes), at, POLICY).deferral
    assert deferral is not None
    return deferral


def types(outcome_events) -> list[str]:
    return [event.type for event in outcome_events]


# --- opening and updating -------------------------------------------------------------------


def test_delay_report_opens_a_deferral_without_events():
    outcome = apply(None, delay(), T0, POLICY)
    assert outcome.events == ()
    assert outcome.suppression is None
    deferral = outcome.deferral
    assert deferral is not None and deferral.is_open
    assert (deferral.recipient, deferral.key) == ("ann@example.org", "<m1@app.example>")
    assert deferral.attempts == 1
    assert deferral.started_at == T0 == deferral.opened_at
    assert deferral.last_status == "4.2.2"
    assert deferral.original == ORIGINAL


def test_second_report_updates_attempts_status_and_diagnostic():
    first = opened()
    later = T0 + timedelta(hours=1)
    outcome = apply(first, delay(later, status="4.4.1", diagnostic="connect timeout"), later)
    assert outcome.deferral.attempts == 2
    assert outcome.deferral.last_status == "4.4.1"
    assert outcome.deferral.last_diagnostic == "connect timeout"
    assert outcome.deferral.last_seen == later
    assert outcome.deferral.opened_at == T0


def test_soft_bounce_emits_bounce_soft_and_opens_deferral():
    outcome = apply(None, soft(action="failed", status="5.2.2"), T0, POLICY)
    assert types(outcome.events) == ["bounce.soft"]
    event = outcome.events[0]
    assert (event.recipient, event.status, event.reason) == (
        "ann@example.org",
        "5.2.2",
        "mailboxfull",
    )
    assert event.bounce_class == "soft"
    assert event.original.message_id == "<m1@app.example>"
    assert outcome.deferral is not None and outcome.deferral.is_open
    assert outcome.suppression is None


def test_autoreply_and_class_none_change_nothing():
    deferral = opened()
    for observation in (soft(kind="autoreply"), soft(bounce_class="none")):
        outcome = apply(deferral, observation, T0)
        assert outcome.deferral == deferral
        assert outcome.events == () and outcome.suppression is None


# --- timers ---------------------------------------------------------------------------------


def test_sweep_before_four_hours_does_nothing():
    clock = FakeClock(T0)
    deferral = opened()
    assert sweep([deferral], clock.advance(hours=3, minutes=59), POLICY) == []


def test_sweep_after_four_hours_warns_once():
    clock = FakeClock(T0)
    deferral = opened()
    outcomes = sweep([deferral], clock.advance(hours=4, minutes=1), POLICY)
    assert len(outcomes) == 1
    assert types(outcomes[0].events) == ["delivery.delayed"]
    warned = outcomes[0].deferral
    assert warned.warned_at == clock.now and warned.is_open
    assert outcomes[0].events[0].age == timedelta(hours=4, minutes=1)
    assert sweep([warned], clock.now, POLICY) == []
    assert sweep([warned], clock.advance(hours=20), POLICY) == []


def test_sweep_after_four_days_gives_up_with_expiring_suppression():
    clock = FakeClock(T0)
    deferral = opened()
    warned = sweep([deferral], clock.advance(hours=5), POLICY)[0].deferral
    outcome = sweep([warned], clock.advance(days=4), POLICY)[0]
    assert types(outcome.events) == ["delivery.given_up"]
    assert outcome.deferral.close_reason == "given_up"
    assert outcome.deferral.closed_at == clock.now
    request = outcome.suppression
    assert (request.address, request.reason, request.bounce_class) == (
        "ann@example.org",
        "expired",
        "soft",
    )
    assert request.expires_at == clock.now + timedelta(days=14)
    assert request.status == "4.2.2"
    assert sweep([outcome.deferral], clock.advance(days=1), POLICY) == []


def test_catch_up_after_downtime_emits_delayed_then_given_up():
    deferral = opened()
    outcomes = sweep([deferral], T0 + timedelta(days=5), POLICY)
    assert types(outcomes[0].events) == ["delivery.delayed", "delivery.given_up"]
    assert outcomes[0].suppression is not None
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


def test_observation_past_threshold_fires_pending_warning_once():
    deferral = opened()
    later = T0 + timedelta(hours=6)
    outcome = apply(deferral, delay(later), later, POLICY)
    assert types(outcome.events) == ["delivery.delayed"]
    again = apply(outcome.deferral, delay(later), later + timedelta(hours=1), POLICY)
    assert again.events == ()


def test_soft_bounce_past_give_up_emits_soft_then_given_up():
    deferral = opened()
    later = T0 + timedelta(days=4, hours=1)
    outcome = apply(deferral, soft(later, action="failed", status="5.2.2"), later, POLICY)
    assert types(outcome.events) == ["bounce.soft", "delivery.delayed", "delivery.given_up"]
    assert not outcome.deferral.is_open


# --- Arrival-Date ---------------------------------------------------------------------------


def test_plausible_arrival_date_sets_age_origin():
    arrival = T0 - timedelta(hours=3)
    deferral = opened(arrival_date=arrival)
    assert deferral.started_at == arrival
    assert deferral.opened_at == T0
    outcomes = sweep([deferral], T0 + timedelta(hours=1, minutes=1), POLICY)
    assert types(outcomes[0].events) == ["delivery.delayed"]


def test_arrival_date_in_the_future_is_ignored():
    deferral = opened(arrival_date=T0 + timedelta(hours=2))
    assert deferral.started_at == T0


def test_arrival_date_far_in_the_past_is_ignored():
    deferral = opened(arrival_date=T0 - timedelta(days=45))
    assert deferral.started_at == T0


def test_arrival_date_never_moves_origin_after_first_failure():
    deferral = opened(arrival_date=T0 + timedelta(minutes=5))
    assert deferral.started_at == T0
    later = T0 + timedelta(hours=1)
    updated = apply(deferral, delay(later, arrival_date=later), later, POLICY).deferral
    assert updated.started_at == T0


def test_naive_arrival_date_is_taken_as_utc():
    deferral = opened(arrival_date=datetime(2026, 3, 2, 7, 0))
    assert deferral.started_at == T0 - timedelta(hours=2)


def test_later_report_with_earlier_arrival_moves_origin_back():
    deferral = opened()
    later = T0 + timedelta(hours=1)
    arrival = T0 - timedelta(hours=2)
    outcome = apply(deferral, delay(later, arrival_date=arrival), later, POLICY)
    assert outcome.deferral.started_at == arrival
    assert types(outcome.events) == []


# --- terminal observations ------------------------------------------------------------------


def test_delivered_before_warning_recovers_without_delay_event():
    clock = FakeClock(T0)
    deferral = opened()
    at = clock.advance(hours=2)
    delivered = soft(at, kind="delivered", bounce_class="none", status="2.0.0", action="delivered")
    outcome = apply(deferral, delivered, at, POLICY)
    assert types(outcome.events) == ["delivery.recovered"]
    assert (outcome.events[0].status, outcome.events[0].reason) == ("2.0.0", "delivered")
    assert outcome.events[0].attempts == 1
    assert outcome.deferral.close_reason == "recovered"
    assert outcome.suppression is None
    assert sweep([outcome.deferral], clock.advance(hours=3), POLICY) == []


def test_delivered_without_open_deferral_is_quiet():
    outcome = apply(None, soft(kind="delivered", bounce_class="none"), T0, POLICY)
    assert outcome == apply(None, soft(kind="autoreply"), T0, POLICY)
    assert outcome.events == () and outcome.deferral is None


def test_hard_bounce_closes_and_suppresses_forever():
    deferral = opened()
    at = T0 + timedelta(hours=1)
    hard = soft(at, bounce_class="hard", reason="userunknown", status="5.1.1", action="failed")
    outcome = apply(deferral, hard, at, POLICY)
    assert types(outcome.events) == ["bounce.hard"]
    assert outcome.deferral.close_reason == "hard"
    assert outcome.suppression.expires_at is None
    assert (outcome.suppression.reason, outcome.suppression.bounce_class) == (
        "userunknown",
        "hard",
    )


def test_hard_bounce_without_deferral_still_suppresses():
    hard = soft(bounce_class="hard", reason="hostunknown", status="5.1.2", action="failed")
    outcome = apply(None, hard, T0, POLICY)
    assert outcome.deferral is None
    assert outcome.suppression.address == "ann@example.org"


def test_complaint_closes_and_suppresses_forever():
    deferral = opened()
    complaint = soft(kind="complaint", bounce_class="none", reason="undefined", status=None)
    outcome = apply(deferral, complaint, T0, POLICY)
    assert types(outcome.events) == ["complaint"]
    assert outcome.deferral.close_reason == "complaint"
    assert outcome.suppression.reason == "feedback"
    assert outcome.suppression.expires_at is None


def test_failed_with_temporary_status_gives_up_at_once():
    at = T0 + timedelta(minutes=30)
    observation = soft(at, action="failed", status="4.4.7", reason="expired")
    outcome = apply(None, observation, at, POLICY)
    assert types(outcome.events) == ["delivery.given_up"]
    assert outcome.deferral.close_reason == "given_up"
    assert outcome.suppression.reason == "expired"
    assert outcome.suppression.bounce_class == "soft"
    assert outcome.suppression.expires_at == at + timedelta(days=14)


def test_failed_temporary_after_long_deferral_warns_first():
    deferral = opened()
    at = T0 + timedelta(days=4, hours=2)
    observation = soft(at, action="failed", status="4.4.7", reason="expired")
    outcome = apply(deferral, observation, at, POLICY)
    assert types(outcome.events) == ["delivery.delayed", "delivery.given_up"]
    assert outcome.deferral.attempts == 2


def test_observation_for_closed_deferral_starts_afresh():
    closed = close(opened(), T0, "recovered")
    at = T0 + timedelta(days=1)
    outcome = apply(closed, delay(at), at, POLICY)
    assert outcome.deferral.is_open
    assert outcome.deferral.attempts == 1
    assert outcome.deferral.opened_at == at


def test_resolve_closes_without_suppression():
    deferral = opened()
    at = T0 + timedelta(hours=1)
    outcome = resolve(deferral, at, by="api")
    assert types(outcome.events) == ["delivery.recovered"]
    assert outcome.events[0].data == {"by": "api"}
    assert outcome.events[0].status is None
    assert outcome.deferral.close_reason == "resolved"
    assert outcome.suppression is None
    assert resolve(outcome.deferral, at).events == ()


# --- escalation -----------------------------------------------------------------------------


def test_score_counts_once_per_calendar_day():
    score = score_bounce(BounceScore(), date(2026, 3, 2))
    score = score_bounce(score, date(2026, 3, 2))
    assert score == BounceScore(1, date(2026, 3, 2))
    score = score_bounce(score, date(2026, 3, 3))
    assert score == BounceScore(2, date(2026, 3, 3))


def test_score_resets_when_stale():
    score = BounceScore(4, date(2026, 3, 2))
    assert score_bounce(score, date(2026, 3, 9)) == BounceScore(5, date(2026, 3, 9))
    assert score_bounce(score, date(2026, 3, 10)) == BounceScore(1, date(2026, 3, 10))


def test_escalated_at_threshold():
    assert not escalated(BounceScore(4, date(2026, 3, 2)))
    assert escalated(BounceScore(5, date(2026, 3, 2)))
    assert escalated(BounceScore(2, date(2026, 3, 2)), Policy(escalation_threshold=2))


def test_fifth_soft_bounce_day_asks_for_soft_suppression():
    score = BounceScore()
    deferral = None
    for day in range(5):
        at = T0 + timedelta(days=day)
        observation = soft(at, action="failed", status="5.2.2", key=f"<m{day}@app.example>")
        outcome = apply(deferral, observation, at, POLICY, score)
        score = outcome.score
        if day < 4:
            assert outcome.suppression is None
            assert score.score == day + 1
    request = outcome.suppression
    assert (request.reason, request.bounce_class) == ("mailboxfull", "soft")
    assert request.expires_at == T0 + timedelta(days=4) + POLICY.soft_ttl
    assert score.score == 0


def test_same_day_soft_bounces_do_not_escalate():
    score = BounceScore()
    for hour in range(8):
        at = T0 + timedelta(hours=hour)
        outcome = apply(None, soft(at, action="failed", status="5.2.2"), at, POLICY, score)
        score = outcome.score
    assert score.score == 1
    assert outcome.suppression is None


def test_delay_reports_do_not_change_the_score():
    outcome = apply(None, delay(), T0, POLICY, BounceScore(3, date(2026, 3, 1)))
    assert outcome.score is None


# --- helpers --------------------------------------------------------------------------------


def test_match_prefers_same_key_then_keyless():
    keyed = opened()
    keyless = opened(T0 + timedelta(hours=1), key="")
    other = opened(recipient="bob@example.org")
    assert match([keyed, keyless, other], "ann@example.org", "<m1@app.example>") == keyed
    assert match([keyed, keyless, other], "ann@example.org", "<m9@app.example>") == keyless
    assert match([keyed, other], "ann@example.org", "") == keyed
    assert match([keyed, other], "carl@example.org", "") is None
    assert match([close(keyed, T0, "hard")], "ann@example.org", "<m1@app.example>") is None


def test_suppression_added_event_carries_request_fields():
    request = apply(None, soft(action="failed", status="4.4.7"), T0, POLICY).suppression
    event = suppression_added(request, T0)
    assert event.type == "suppression.added"
    assert (event.recipient, event.reason, event.bounce_class) == (
        "ann@example.org",
        "expired",
        "soft",
    )
    assert event.data == {"expires_at": T0 + timedelta(days=14)}


def test_observe_maps_a_classified_entry():
    report = Report(
        kind="bounce",
        entries=(),
        arrival_date=T0 - timedelta(hours=1),
        envelope_id="env-1",
        original=ORIGINAL,
    )
    entry = Entry(
        "Ann@Example.ORG",
        original_recipient="<Ann@EXAMPLE.org>",
        action="delayed",
        status="4.4.1",
        diagnostic="no answer",
    )
    observation = observe(report, entry, Verdict("soft", "networkerror", "4.4.1"), T0)
    assert observation.recipient == "Ann@example.org"
    assert observation.kind == "delay"
    assert observation.key == "<m1@app.example>"
    assert observation.arrival_date == T0 - timedelta(hours=1)
    assert (observation.bounce_class, observation.reason) == ("soft", "networkerror")


def test_observe_kinds_follow_action_then_report():
    verdict = Verdict("none", "delivered")
    bare = Report(kind="bounce", envelope_id="env-2")
    assert observe(bare, Entry("a@x.org", action="relayed"), verdict, T0).kind == "delivered"
    assert observe(bare, Entry("a@x.org", action="failed"), verdict, T0).kind == "bounce"
    assert observe(bare, Entry("a@x.org"), verdict, T0).key == "env-2"
    complaint = Report(kind="complaint")
    abuse = Entry("a@x.org", feedback_type="abuse")
    assert observe(complaint, abuse, verdict, T0).kind == "complaint"
    not_spam = replace(abuse, feedback_type="not-spam")
    assert observe(complaint, not_spam, verdict, T0).kind == "other"
    vacation = Report(kind="autoreply")
    assert observe(vacation, Entry("a@x.org", action="failed"), verdict, T0).kind == "autoreply"
