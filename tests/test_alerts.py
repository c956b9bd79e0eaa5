"""The alert decisions, pure: what a failure counts in, when an episode opens, stays open and
ends, what its events say, and what a sender block holds back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bouncer.core import episodes
from bouncer.core.alerts import (
    AlertPolicy,
    Failure,
    Rule,
    alert_scopes,
    failure,
    receiver,
    scope_fields,
    tally,
    window_count,
)
from bouncer.core.episodes import ALERT_TYPES, Episode, decide, end_time
from bouncer.core.holds import hold, names_the_recipient
from bouncer.core.model import Entry, Verdict
from bouncer.core.tracker import EVENT_TYPES, apply
from tests.tracker_helpers import soft

T0 = datetime(2026, 3, 2, 9, 0, 12, tzinfo=UTC)
HOUR = Rule(1000, timedelta(hours=1))


def _failure(at: datetime, domain: str = "example.com", reason: str = "userunknown") -> Failure:
    return Failure(at, domain, reason)


class Scope:
    """One scope run through the core the way the store runs it: count, decide, open/keep/close."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.buckets: dict[datetime, int] = {}
        self.latest: Episode | None = None
        self.fired: list[tuple[str, datetime]] = []

    def count(self, at: datetime) -> int:
        return window_count(sorted(self.buckets.items()), self.rule, at)

    def add(self, at: datetime) -> None:
        start = self.rule.bucket(at)
        self.buckets[start] = self.buckets.get(start, 0) + 1
        self.check(at)

    def check(self, at: datetime) -> None:
        at = episodes.decision_time(self.latest, at)
        count = self.count(at)
        action = decide(self.latest, count, self.rule)
        if action == "open":
            self.latest, event = episodes.opened("all", at, count, self.rule)
            self.fired.append((event.type, event.at))
        elif action == "keep":
            self.latest = episodes.kept(self.latest, at, count, self.rule.width)
        elif action == "close":
            buckets = sorted(self.buckets.items())
            end = end_time(buckets, self.rule, self.latest.checked_at, at)
            self.latest, event = episodes.ended(self.latest, end, self.count(end), self.rule)
            self.fired.append((event.type, event.at))


def test_a_bucket_is_a_sixtieth_of_the_window_in_whole_seconds() -> None:
    assert HOUR.width == timedelta(minutes=1)
    assert Rule(20, timedelta(minutes=10)).width == timedelta(seconds=10)
    assert Rule(5, timedelta(seconds=30)).width == timedelta(seconds=1)
    assert HOUR.bucket(T0) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert HOUR.bucket(T0.replace(tzinfo=None)) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_burst_over_the_threshold_opens_exactly_one_episode_that_ends_once() -> None:
    scope = Scope(HOUR)
    for i in range(1200):  # 1,200 failures in 5 seconds
        scope.add(T0 + timedelta(seconds=5 * i / 1200))
    assert scope.fired == [("failures.spike", T0 + timedelta(seconds=5 * 999 / 1200))]
    assert scope.latest.count == 1000 and scope.latest.peak == 1200
    scope.check(T0 + timedelta(minutes=59))
    assert len(scope.fired) == 1  # still inside the window
    scope.check(T0 + timedelta(hours=3))  # the sweep, long after: the end is dated exactly
    bucket_left = HOUR.bucket(T0) + HOUR.window + HOUR.width
    assert scope.fired[1:] == [("failures.spike_ended", bucket_left)]
    scope.check(T0 + timedelta(hours=4))
    assert len(scope.fired) == 2


def test_below_the_threshold_nothing_fires() -> None:
    scope = Scope(HOUR)
    for i in range(999):
        scope.add(T0 + timedelta(seconds=3 * i))
    assert scope.fired == []


def test_an_episode_stays_open_down_to_half_the_threshold_then_a_new_one_may_open() -> None:
    scope = Scope(Rule(10, timedelta(minutes=10)))
    for i in range(10):
        scope.add(T0 + timedelta(seconds=i))
    # a trickle of one failure every two minutes keeps the count at 5 or more: no end
    for minute in range(2, 40, 2):
        scope.add(T0 + timedelta(minutes=minute))
        assert scope.count(T0 + timedelta(minutes=minute)) >= 5
    assert [kind for kind, _ in scope.fired] == ["failures.spike"]
    scope.check(T0 + timedelta(hours=1))
    assert [kind for kind, _ in scope.fired] == ["failures.spike", "failures.spike_ended"]
    for i in range(10):
        scope.add(T0 + timedelta(hours=2, seconds=i))
    assert [kind for kind, _ in scope.fired][-1] == "failures.spike"
    assert len(scope.fired) == 3


def test_a_late_report_cannot_move_a_decision_back_in_time() -> None:
    closed = Episode("all", T0, T0, 10, 10, ended_at=T0 + timedelta(hours=1))
    assert episodes.decision_time(closed, T0) == T0 + timedelta(hours=1)
    still_open = Episode("all", T0, T0 + timedelta(minutes=5), 10, 10)
    assert episodes.decision_time(still_open, T0) == T0 + timedelta(minutes=5)
    assert episodes.decision_time(None, T0) == T0


def test_decide_opens_keeps_and_closes() -> None:
    rule = Rule(10, timedelta(minutes=10))
    episode = Episode("all", T0, T0, 10, 10)
    assert [decide(None, n, rule) for n in (9, 10)] == ["none", "open"]
    assert [decide(episode, n, rule) for n in (5, 4)] == ["keep", "close"]
    assert decide(episode, 50, Rule(0, rule.window)) == "close"  # the alert was turned off
    assert decide(None, 50, Rule(0, rule.window)) == "none"


def test_a_failure_counts_overall_by_domain_by_reason_and_blocks_by_provider() -> None:
    policy = AlertPolicy()
    blocked = Failure(T0, "gmail.com", "blocked", provider="google")
    added = tally([_failure(T0), _failure(T0 + timedelta(seconds=1)), blocked], policy)
    minute = HOUR.bucket(T0)
    assert added[("all", minute)] == 3
    assert added[("domain:example.com", minute)] == 2
    assert added[("reason:userunknown", minute)] == 2
    assert added[("provider:google", T0.replace(second=10))] == 1
    assert list(alert_scopes([_failure(T0), blocked], policy)) == [
        "all",
        "domain:example.com",
        "domain:gmail.com",
        "provider:google",
    ]
    quiet = AlertPolicy(domain_threshold=0, blocked_threshold=0)
    assert list(alert_scopes([blocked], quiet)) == ["all"]
    assert ("provider:google", T0.replace(second=10)) not in tally([blocked], quiet)


def test_which_entries_count_and_toward_which_provider() -> None:
    gmail = Entry("a@Gmail.com", remote_mta="gmail-smtp-in.l.google.com", diagnostic="550 IP")
    found = failure(gmail, Verdict("soft", "blocked", "5.7.1"), T0)
    assert (found.domain, found.provider, found.status, found.diagnostic) == (
        "gmail.com",
        "google",
        "5.7.1",
        "550 IP",
    )
    assert failure(gmail, Verdict("soft", "blocked", "5.7.1"), T0, acts=False).provider is None
    assert failure(gmail, Verdict("hard", "userunknown", "5.1.1"), T0).provider is None
    assert failure(gmail, Verdict("none", "vacation", None), T0) is None
    assert receiver("x@small.example", "mx.small.example") == "small.example"
    assert receiver("x@corp.example", "corp-example.mail.protection.outlook.com") == "microsoft"
    assert failure(Entry("<undisclosed>"), Verdict("hard", "userunknown"), T0).domain == ""


def test_the_events_name_scope_count_sample_and_episode() -> None:
    rule = Rule(20, timedelta(minutes=10))
    sample = Failure(T0, "gmail.com", "blocked", "google", "4.7.0", "421 4.7.0 IP blocked", "mx")
    episode, event = episodes.opened("provider:google", T0, 20, rule, sample)
    assert (event.type, event.at, event.recipient) == ("sender.blocked", T0, None)
    assert (event.reason, event.status, event.diagnostic) == ("blocked", "4.7.0", sample.diagnostic)
    assert event.data == {
        "scope": "provider",
        "provider": "google",
        "count": 20,
        "threshold": 20,
        "window_seconds": 600,
        "since": T0 - timedelta(minutes=10),
        "remote_mta": "mx",
    }
    episode = episodes.kept(episode, T0 + timedelta(minutes=1), 30, rule.width)
    assert (episode.peak, episode.checked_at) == (30, T0 + timedelta(minutes=1))
    soon = T0 + timedelta(minutes=1, seconds=5)
    assert episodes.kept(episode, soon, 25, rule.width) is episode  # nothing worth a write
    assert episodes.kept(episode, soon, 25).checked_at == soon
    later = T0 + timedelta(minutes=15)
    from dataclasses import replace

    closed, end = episodes.ended(replace(episode, event_id="e1"), later, 3, rule)
    assert (end.type, end.at, closed.ended_at) == ("sender.blocked_ended", later, later)
    assert end.data["peak"] == 30 and end.data["episode"] == "e1"
    assert end.data["duration_seconds"] == 900 and end.data["opened_at"] == T0
    spike, _ = episodes.opened("domain:example.com", T0, 500, HOUR)
    assert spike.type == "failures.spike"
    assert scope_fields("all") == {"scope": "all"}


def test_every_alert_type_is_an_event_type() -> None:
    assert set(ALERT_TYPES) <= set(EVENT_TYPES)


def test_a_status_names_the_recipient_only_for_its_address_or_mailbox() -> None:
    named = ["5.1.1", "5.1.2", "5.1.10", "4.2.2", "5.2.1", "5.7.17", "5.7.18"]
    unnamed = [None, "", "5.0.0", "5.7.1", "4.7.0", "4.4.1", "5.1.7", "5.1.8", "5.7.26", "5"]
    assert all(names_the_recipient(status) for status in named)
    assert not any(names_the_recipient(status) for status in unnamed)


def test_a_hard_looking_reply_during_a_block_neither_suppresses_nor_counts() -> None:
    looks_hard = soft(
        bounce_class="hard", reason="userunknown", status="5.7.1", diagnostic="550 5.7.1 denied"
    )
    outcome = hold(apply(None, looks_hard, T0), looks_hard, "microsoft")
    assert outcome.suppression is None
    (event,) = outcome.events
    assert (event.type, event.data) == (
        "bounce.hard",
        {"held_by": "sender.blocked", "provider": "microsoft"},
    )


def test_an_explicit_unknown_user_still_suppresses_during_a_block() -> None:
    unknown = soft(bounce_class="hard", reason="userunknown", status="5.1.1")
    outcome = apply(None, unknown, T0)
    assert hold(outcome, unknown, "google") == outcome
    assert outcome.suppression is not None


def test_a_give_up_during_a_block_counts_no_soft_day() -> None:
    given_up = soft(reason="expired", status="4.4.1", diagnostic="connection timed out")
    outcome = apply(None, given_up, T0)
    assert outcome.soft_day == date(2026, 3, 2)
    held = hold(outcome, given_up, "example.net")
    assert held.soft_day is None and held.suppression is None
    assert {e.data.get("held_by") for e in held.events} == {"sender.blocked"}
    full = soft()  # 5.2.2 mailbox full names the mailbox: still counted
    assert hold(apply(None, full, T0), full, "example.net").soft_day == date(2026, 3, 2)


def test_complaints_and_sender_side_failures_are_left_as_they_are() -> None:
    complaint = soft(kind="complaint", bounce_class="none", reason="feedback", status=None)
    outcome = apply(None, complaint, T0)
    assert hold(outcome, complaint, "google") == outcome
    blocked = soft(reason="blocked", status="5.7.1")  # never counted: nothing to hold
    outcome = apply(None, blocked, T0)
    assert hold(outcome, blocked, "google") == outcome


def test_with_alerts_disabled_no_scope_alerts_and_open_episodes_end_at_once() -> None:
    off = AlertPolicy(enabled=False)
    assert not any(off.rule(scope).on for scope in ("all", "domain:a.example", "provider:g"))
    episode = Episode("all", T0, T0, 1000, 1000)
    assert decide(episode, 5000, off.rule("all")) == "close"
    later = T0 + timedelta(minutes=3)
    assert end_time([(T0, 5000)], off.rule("all"), T0, later) == later


def test_what_a_block_may_hold_back() -> None:
    from bouncer.core.holds import withheld

    assert withheld("bounce", "5.7.1") and withheld("unknown", None)
    assert not withheld("bounce", "5.1.1")
    assert not any(withheld(kind, None) for kind in ("complaint", "delivered", "delay"))
