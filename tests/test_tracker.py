"""Unit tests for the deferral state machine: what each kind of report does (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bouncer.core.model import Entry, Report, Verdict
from bouncer.core.timers import close
from bouncer.core.tracker import (
    apply,
    match,
    observe,
    resolve,
    sender_gave_up,
    suppression_added,
)
from tests.tracker_helpers import ORIGINAL, POLICY, T0, FakeClock, delay, opened, soft, types

# --- delay notices and soft bounces ---------------------------------------------------------


def test_delay_notice_emits_deferred_and_opens_a_deferral():
    retry_until = T0 + timedelta(days=5)
    last_attempt = T0 - timedelta(minutes=3)
    notice = delay(will_retry_until=retry_until, last_attempt=last_attempt)
    outcome = apply(None, notice, T0, POLICY)
    assert types(outcome.events) == ["delivery.deferred"]
    event = outcome.events[0]
    assert (event.status, event.diagnostic, event.bounce_class) == (
        "4.2.2",
        "552 5.2.2 Mailbox full",
        "soft",
    )
    assert event.data == {"will_retry_until": retry_until, "last_attempt_at": last_attempt}
    assert outcome.suppression is None and outcome.soft_day is None
    deferral = outcome.deferral
    assert deferral.is_open and deferral.attempts == 1
    assert (deferral.recipient, deferral.key) == ("ann@example.org", "<m1@app.example>")
    assert deferral.started_at == T0 == deferral.opened_at
    assert (deferral.will_retry_until, deferral.last_attempt) == (retry_until, last_attempt)
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


def test_soft_bounce_emits_bounce_soft_counts_a_day_and_leaves_nothing_open():
    outcome = apply(None, soft(), T0, POLICY)
    assert types(outcome.events) == ["bounce.soft"]
    event = outcome.events[0]
    assert (event.recipient, event.status, event.reason, event.bounce_class) == (
        "ann@example.org",
        "5.2.2",
        "mailboxfull",
        "soft",
    )
    assert event.original.message_id == "<m1@app.example>"
    assert outcome.deferral is None  # a returned message is final: no timers for it
    assert outcome.suppression is None
    assert outcome.soft_day == T0.date()


def test_soft_bounce_for_a_message_under_retry_ends_it_on_the_mtas_word():
    deferral = opened()
    at = T0 + timedelta(hours=1)
    outcome = apply(deferral, soft(at), at, POLICY)
    assert types(outcome.events) == ["bounce.soft", "delivery.given_up"]
    assert outcome.events[1].data == {"evidence": "mta"}
    assert (outcome.deferral.close_reason, outcome.deferral.closed_at) == ("given_up", at)


def test_autoreply_and_class_none_change_nothing():
    deferral = opened()
    for observation in (soft(kind="autoreply"), soft(bounce_class="none")):
        outcome = apply(deferral, observation, T0)
        assert outcome.deferral == deferral
        assert outcome.events == () and outcome.suppression is None


# --- the sending MTA gives up ---------------------------------------------------------------


def test_failed_with_a_temporary_status_is_the_mta_giving_up():
    at = T0 + timedelta(minutes=30)
    outcome = apply(None, soft(at, status="4.4.7", reason="expired"), at, POLICY)
    assert types(outcome.events) == ["bounce.soft", "delivery.given_up"]
    assert outcome.events[1].data == {"evidence": "mta"}
    assert outcome.deferral.close_reason == "given_up"
    assert outcome.suppression is None
    assert outcome.soft_day == at.date()


def test_mta_give_up_after_a_long_deferral_warns_first_and_keeps_the_mta_dates():
    deferral = opened(will_retry_until=T0 + timedelta(days=5))
    at = T0 + timedelta(days=5)
    outcome = apply(deferral, soft(at, status="4.2.2"), at, POLICY)
    assert types(outcome.events) == ["bounce.soft", "delivery.delayed", "delivery.given_up"]
    assert outcome.events[2].data == {
        "evidence": "mta",
        "will_retry_until": T0 + timedelta(days=5),
    }
    assert outcome.deferral.attempts == 2
    assert outcome.deferral.warned_at == T0 + timedelta(hours=4)


def test_what_counts_as_the_mta_giving_up():
    assert sender_gave_up(soft(status="4.2.2"))
    assert sender_gave_up(soft(status="5.4.7", reason="expired"))
    assert not sender_gave_up(soft(status="5.2.2"))
    assert not sender_gave_up(delay(status="4.4.7", reason="expired"))


# --- terminal observations ------------------------------------------------------------------


def test_delivered_recovers_lifts_and_resets_the_count():
    clock = FakeClock(T0)
    deferral = opened()
    at = clock.advance(hours=2)
    delivered = soft(at, kind="delivered", bounce_class="none", status="2.0.0", action="delivered")
    delivered = replace(delivered, diagnostic="250 2.0.0 Ok: queued")
    outcome = apply(deferral, delivered, at, POLICY)
    assert types(outcome.events) == ["delivery.recovered"]
    recovered = outcome.events[0]
    assert (recovered.status, recovered.reason) == ("2.0.0", "delivered")
    assert recovered.diagnostic == "250 2.0.0 Ok: queued"
    assert outcome.events[0].attempts == 1
    assert outcome.deferral.close_reason == "recovered"
    assert outcome.suppression is None
    assert outcome.lift and outcome.reset_soft


def test_delivered_without_open_deferral_emits_nothing():
    outcome = apply(None, soft(kind="delivered", bounce_class="none"), T0, POLICY)
    assert outcome.events == () and outcome.deferral is None


def test_hard_bounce_closes_and_suppresses_forever():
    deferral = opened()
    at = T0 + timedelta(hours=1)
    hard = soft(at, bounce_class="hard", reason="userunknown", status="5.1.1")
    outcome = apply(deferral, hard, at, POLICY)
    assert types(outcome.events) == ["bounce.hard"]
    assert outcome.deferral.close_reason == "hard"
    request = outcome.suppression
    assert request.expires_at is None
    assert (request.reason, request.bounce_class, request.address) == (
        "userunknown",
        "hard",
        "ann@example.org",
    )


def test_complaint_closes_and_suppresses_forever():
    deferral = opened()
    complaint = soft(kind="complaint", bounce_class="none", reason="undefined", status=None)
    outcome = apply(deferral, complaint, T0, POLICY)
    assert types(outcome.events) == ["complaint"]
    assert outcome.deferral.close_reason == "complaint"
    assert outcome.suppression.reason == "feedback"
    assert outcome.suppression.expires_at is None


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
    assert outcome.events[0].status is None and outcome.events[0].diagnostic is None
    assert outcome.deferral.close_reason == "resolved"
    assert outcome.suppression is None
    assert resolve(outcome.deferral, at).events == ()


# --- Arrival-Date ---------------------------------------------------------------------------


def test_plausible_arrival_date_sets_age_origin():
    arrival = T0 - timedelta(hours=3)
    deferral = opened(arrival_date=arrival)
    assert deferral.started_at == arrival
    assert deferral.opened_at == T0
    later = apply(deferral, delay(T0 + timedelta(hours=1, minutes=1)), T0 + timedelta(hours=1))
    assert types(later.events) == ["delivery.deferred", "delivery.delayed"]
    assert later.events[1].at == T0 + timedelta(hours=1)  # 4 h after the arrival


def test_arrival_date_in_the_future_or_far_past_is_ignored():
    assert opened(arrival_date=T0 + timedelta(hours=2)).started_at == T0
    assert opened(arrival_date=T0 - timedelta(days=45)).started_at == T0


def test_arrival_date_never_moves_origin_after_first_failure():
    deferral = opened(arrival_date=T0 + timedelta(minutes=5))
    later = T0 + timedelta(hours=1)
    updated = apply(deferral, delay(later, arrival_date=later), later, POLICY).deferral
    assert updated.started_at == T0


def test_naive_arrival_date_is_taken_as_utc():
    deferral = opened(arrival_date=datetime(2026, 3, 2, 7, 0))
    assert deferral.started_at == T0 - timedelta(hours=2)


def test_later_report_with_earlier_arrival_moves_origin_back():
    later = T0 + timedelta(hours=1)
    arrival = T0 - timedelta(hours=2)
    outcome = apply(opened(), delay(later, arrival_date=arrival), later, POLICY)
    assert outcome.deferral.started_at == arrival
    assert types(outcome.events) == ["delivery.deferred"]


# --- identity and helpers -------------------------------------------------------------------


def test_match_prefers_same_key_then_keyless():
    keyed = opened()
    keyless = opened(T0 + timedelta(hours=1), key="")
    assert match([keyed, keyless], "<m1@app.example>") == keyed
    assert match([keyed, keyless], "<m9@app.example>") == keyless
    assert match([keyed], "") == keyed
    assert match([keyed], "<m9@app.example>") is None
    assert match([close(keyed, T0, "hard")], "<m1@app.example>") is None


def test_suppression_added_event_carries_request_fields():
    hard = soft(bounce_class="hard", reason="userunknown", status="5.1.1")
    request = apply(None, replace(hard, final_recipient="ann.s@mx.example.org"), T0).suppression
    event = suppression_added(request, T0)
    assert event.type == "suppression.added"
    assert (event.recipient, event.final_recipient, event.reason, event.bounce_class) == (
        "ann@example.org",
        "ann.s@mx.example.org",
        "userunknown",
        "hard",
    )
    assert event.data == {}


def test_observe_is_about_the_address_the_application_sent_to():
    report = Report(
        kind="bounce",
        arrival_date=T0 - timedelta(hours=1),
        envelope_id="env-1",
        original=ORIGINAL,
    )
    entry = Entry(
        "ann.smith@mailhost.example.org",
        original_recipient="<Ann@Example.ORG>",
        action="delayed",
        status="4.4.1",
        diagnostic="no answer",
        will_retry_until=T0 + timedelta(days=5),
        last_attempt=T0 - timedelta(minutes=1),
    )
    observation = observe(report, entry, Verdict("soft", "networkerror", "4.4.1"), T0)
    assert observation.recipient == "Ann@Example.ORG"
    assert observation.final_recipient == "ann.smith@mailhost.example.org"
    assert observation.kind == "delay"
    assert observation.key == "<m1@app.example>"
    assert observation.arrival_date == T0 - timedelta(hours=1)
    assert observation.will_retry_until == T0 + timedelta(days=5)
    assert observation.last_attempt == T0 - timedelta(minutes=1)
    assert (observation.bounce_class, observation.reason) == ("soft", "networkerror")
    same = observe(report, replace(entry, address="ANN@example.org"), Verdict("soft", "x"), T0)
    assert same.final_recipient is None
    placeholder = replace(entry, original_recipient="unknown@invalid")
    assert observe(report, placeholder, Verdict("soft", "x"), T0).recipient == entry.address


def test_observe_kinds_follow_action_then_report():
    verdict = Verdict("none", "delivered")
    plain = Report(kind="bounce", envelope_id="env-2")
    assert observe(plain, Entry("a@x.org", action="relayed"), verdict, T0).kind == "delivered"
    assert observe(plain, Entry("a@x.org", action="failed"), verdict, T0).kind == "bounce"
    assert observe(plain, Entry("a@x.org"), verdict, T0).key == "env-2"
    complaint = Report(kind="complaint")
    abuse = Entry("a@x.org", feedback_type="abuse")
    assert observe(complaint, abuse, verdict, T0).kind == "complaint"
    not_spam = replace(abuse, feedback_type="not-spam")
    assert observe(complaint, not_spam, verdict, T0).kind == "other"
    vacation = Report(kind="autoreply")
    assert observe(vacation, Entry("a@x.org", action="failed"), verdict, T0).kind == "autoreply"
