"""The tracker run against a real SQLite store through `process`: deferral rows, soft days,
suppressions and their events, identity, duplicates and the operator's word."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bouncer.app.editing import remove_manual
from bouncer.app.processing import process
from bouncer.app.sweeping import sweep
from bouncer.core.tracker import DEFAULT_POLICY
from bouncer.store import deferrals, events, inbox, open_db, records, suppressions
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FULL = "552 5.2.2 Mailbox full"
UNKNOWN = "550 5.1.1 Recipient address rejected: User unknown"


@pytest.fixture
def db(store_url: str):  # noqa: ANN201
    """A store on each backend in turn (SQLite, PostgreSQL)."""
    database = open_db(store_url)
    yield database
    database.close()


def store(db, raw: bytes, at: datetime) -> int:  # noqa: ANN001
    """Store a message as received at `at`; return its id."""
    return inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])[0]


def receive(db, raw: bytes, at: datetime, *, reprocess: bool = False) -> list[str]:  # noqa: ANN001
    """Store a message received at `at` and process it then; return the event types."""
    message_id = store(db, raw, at)
    return run(db, message_id, at, reprocess=reprocess)


def run(db, message_id: int, at: datetime, *, reprocess: bool = False) -> list[str]:  # noqa: ANN001
    """Process (or reprocess) a stored message at `at`; return the event types."""
    (message,) = [m for m in inbox.select_for_reprocess(db) if m.id == message_id]
    return [e["type"] for e in process(db, message, at, reprocess=reprocess).events]


def test_mta_give_up_suppresses_nobody_and_counts_one_day(db) -> None:  # noqa: ANN001
    gave_up = postfix_dsn("a@example.com", "4.2.2", "452 4.2.2 Mailbox full", at=T0)
    assert receive(db, gave_up, T0) == ["bounce.soft", "delivery.given_up"]
    (event,) = events.search(db, event_type="delivery.given_up")
    assert event["evidence"] == "mta"
    assert suppressions.get(db, "a@example.com", T0) is None
    assert db.conn.execute("SELECT COUNT(*) FROM soft_failures").fetchone() == (1,)


def test_hard_suppression_stays_after_a_delivery(db) -> None:  # noqa: ANN001
    assert receive(db, postfix_dsn("a@example.com", "5.1.1", UNKNOWN, at=T0), T0) == [
        "bounce.hard",
        "suppression.added",
    ]
    later = T0 + timedelta(days=1)
    delivered = postfix_dsn("a@example.com", "2.0.0", "250 2.0.0 Ok", action="delivered", at=later)
    assert receive(db, delivered, later) == []
    assert suppressions.get(db, "a@example.com", T0 + timedelta(days=2)) is not None


def test_hard_bounce_closes_every_open_deferral_of_the_address(db) -> None:  # noqa: ANN001
    for number in (1, 2):
        raw = postfix_dsn(
            "a@example.com", "4.2.2", FULL, action="delayed", at=T0, message_id=f"<m{number}@x>"
        )
        receive(db, raw, T0)
    assert len(deferrals.open_for(db, "a@example.com")) == 2
    receive(db, postfix_dsn("A@Example.com", "5.1.1", UNKNOWN, at=T0, message_id="<m3@x>"), T0)
    assert deferrals.open_for(db, "a@example.com") == []
    assert sweep(db, T0 + timedelta(days=5), DEFAULT_POLICY) == []


def _soft_days(db, days: range, **changes) -> list[list[str]]:  # noqa: ANN001, ANN003
    """Receive two mailbox-full bounces a day (distinct reports) on each day; return types."""
    seen = []
    for day in days:
        for hour in (1, 2):
            at = T0 + timedelta(days=day, hours=hour)
            raw = postfix_dsn(
                "b@example.com", "5.2.2", FULL, at=at, message_id=f"<d{day}-{hour}@shop>"
            )
            seen.append(receive(db, raw, at, **changes))
    return seen


def test_soft_bounces_on_five_days_escalate_once_and_a_delivery_lifts_it(db) -> None:  # noqa: ANN001
    seen = _soft_days(db, range(5))
    assert [types.count("suppression.added") for types in seen] == [0] * 8 + [1, 0]
    row = suppressions.get(db, "b@example.com", T0 + timedelta(days=5))
    assert (row["source"], row["class"], row["reason"]) == ("escalation", "soft", "mailboxfull")
    assert row["expires_at"] is not None
    later = T0 + timedelta(days=5)
    delivered = postfix_dsn("b@example.com", "2.0.0", "250 Ok", action="delivered", at=later)
    assert receive(db, delivered, later) == ["suppression.removed"]
    assert suppressions.get(db, "b@example.com", later) is None


def test_a_copy_of_a_report_counts_once_in_decisions_and_in_the_log(db) -> None:  # noqa: ANN001
    raw = postfix_dsn("c@example.com", "5.1.1", UNKNOWN, at=T0)
    assert receive(db, raw, T0) == ["bounce.hard", "suppression.added"]
    relayed = b"Received: from relay.example by mx; Mon, 2 Nov 2026 09:01:00 +0000\r\n" + raw
    assert receive(db, relayed, T0 + timedelta(minutes=1)) == []
    assert len(records.search(db, recipient="c@example.com")) == 1
    stored = db.conn.execute("SELECT COUNT(*), COUNT(DISTINCT fingerprint) FROM messages")
    assert stored.fetchone() == (2, 1)  # both copies kept, known as one report
    assert suppressions.get(db, "c@example.com", T0)["count"] == 1
    for day in range(5):  # the same soft report five days running is one report
        at = T0 + timedelta(days=day)
        soft = postfix_dsn("d@example.com", "5.2.2", FULL, at=T0, report_id="<same@mx>")
        receive(db, soft, at)
    assert suppressions.get(db, "d@example.com", T0 + timedelta(days=5)) is None


def test_a_copy_is_looked_for_in_the_days_before_it_not_in_all_history(db) -> None:  # noqa: ANN001
    """A resend within the longest MTA queue lifetime of the last copy is a copy (the window
    counts UTC days: its last day whole); the same report arriving after it counts as a report
    of its own, and reprocessing finds the copies as processing did."""
    raw = postfix_dsn("e@example.com", "5.1.1", UNKNOWN, at=T0)
    first = store(db, raw, T0)
    assert run(db, first, T0) == ["bounce.hard", "suppression.added"]
    window = timedelta(days=inbox.COPY_WINDOW_DAYS)
    last_day = T0.replace(hour=23, minute=59) + window
    copy = store(db, raw, last_day)
    assert run(db, copy, last_day) == []
    late = last_day + window + timedelta(minutes=2)  # the day after the copy's window
    assert run(db, store(db, raw, late), late) == ["bounce.hard"]  # already suppressed
    assert len(records.search(db, recipient="e@example.com")) == 2
    assert run(db, copy, late, reprocess=True) == []  # still known as a copy of the first


def test_mixed_case_and_alias_find_one_identity(db) -> None:  # noqa: ANN001
    raw = postfix_dsn(
        "staff-0042@mailhost.dest.test", "5.1.1", UNKNOWN, original_recipient="Gone.Mixed@Dest.Test"
    )
    assert receive(db, raw, T0) == ["bounce.hard", "suppression.added"]
    for asked in ("gone.mixed@dest.test", "GONE.MIXED@DEST.TEST", "staff-0042@mailhost.dest.test"):
        assert suppressions.get(db, asked, T0)["address"] == "Gone.Mixed@Dest.Test"
        (record,) = records.search(db, recipient=asked)
        assert record["recipient"] == "Gone.Mixed@Dest.Test"
        assert record["final_recipient"] == "staff-0042@mailhost.dest.test"
        assert [e["type"] for e in events.search(db, recipient=asked)] == [
            "bounce.hard",
            "suppression.added",
        ]
    (added,) = events.search(db, event_type="suppression.added")
    assert (added["recipient"], added["final_recipient"]) == (
        "Gone.Mixed@Dest.Test",
        "staff-0042@mailhost.dest.test",
    )


def test_reprocess_never_undoes_an_operators_removal(db) -> None:  # noqa: ANN001
    raw = postfix_dsn("e@example.com", "5.1.1", UNKNOWN, at=T0)
    message = store(db, raw, T0)
    assert run(db, message, T0) == ["bounce.hard", "suppression.added"]
    removed_at = T0 + timedelta(hours=1)
    assert remove_manual(db, "E@example.com", removed_at, "cli:alice", "customer confirmed")
    assert run(db, message, T0 + timedelta(hours=2), reprocess=True) == []
    assert suppressions.get(db, "e@example.com", T0 + timedelta(hours=2)) is None
    late_copy = b"Received: from relay.example by mx; Mon, 2 Nov 2026 11:00:00 +0000\r\n" + raw
    assert receive(db, late_copy, T0 + timedelta(hours=2, minutes=30)) == []
    assert suppressions.get(db, "e@example.com", T0 + timedelta(hours=3)) is None
    newer = T0 + timedelta(hours=3)
    fresh = postfix_dsn("e@example.com", "5.1.1", UNKNOWN, at=newer)
    assert receive(db, fresh, newer) == ["bounce.hard", "suppression.added"]


def test_removal_forgets_counted_soft_days(db) -> None:  # noqa: ANN001
    _soft_days(db, range(4))
    assert db.conn.execute("SELECT COUNT(*) FROM soft_failures").fetchone()[0] == 8
    from bouncer.app.editing import add_manual

    add_manual(db, "b@example.com", "looks dead", "soft", None, T0 + timedelta(days=4), "cli:bo")
    remove_manual(db, "b@example.com", T0 + timedelta(days=4, minutes=1), "cli:bo", "alive")
    assert db.conn.execute("SELECT COUNT(*) FROM soft_failures").fetchone()[0] == 0
    assert _soft_days(db, range(4, 5)) == [["bounce.soft"], ["bounce.soft"]]


def test_events_and_state_commit_together(db) -> None:  # noqa: ANN001
    delay = postfix_dsn("c@example.com", "4.2.2", FULL, action="delayed", arrival=None, at=T0)
    assert receive(db, delay, T0) == ["delivery.deferred"]
    fired = []
    with pytest.raises(RuntimeError), db.atomic():
        fired = sweep(db, T0 + timedelta(hours=5), DEFAULT_POLICY)
        raise RuntimeError("the caller's transaction fails after the sweep")
    assert [e["type"] for e in fired] == ["delivery.delayed"]
    assert events.search(db, event_type="delivery.delayed") == []
    assert deferrals.open_for(db, "c@example.com")[0][1].warned_at is None


def test_a_simulated_sweep_writes_nothing_after_the_real_time(db) -> None:  # noqa: ANN001
    delay = postfix_dsn("f@example.com", "4.2.2", FULL, action="delayed", arrival=None, at=T0)
    receive(db, delay, T0)
    written_at = T0 + timedelta(minutes=10)
    with db.atomic():
        fired = sweep(db, T0 + timedelta(hours=5), DEFAULT_POLICY, recorded_at=written_at)
    assert [(e["type"], e["at"], e["recorded_at"]) for e in fired] == [
        ("delivery.delayed", "2026-11-02T13:00:00.000Z", "2026-11-02T09:10:00.000Z")
    ]
    (row,) = deferrals.listing(db, recipient="f@example.com")
    assert row["warned_at"] == "2026-11-02T09:10:00.000Z"
    later = T0 + timedelta(minutes=20)
    delivered = postfix_dsn("f@example.com", "2.0.0", "250 Ok", action="delivered", at=later)
    assert receive(db, delivered, later) == ["delivery.recovered"]
    (row,) = deferrals.listing(db, recipient="f@example.com")
    assert row["warned_at"] <= row["closed_at"]
    listed = events.search(db, recipient="f@example.com")
    assert [e["type"] for e in listed] == [
        "delivery.deferred",
        "delivery.delayed",
        "delivery.recovered",
    ]
    assert [e["recorded_at"] for e in listed] == sorted(e["recorded_at"] for e in listed)


def test_a_delivery_lifts_an_old_give_up_suppression(db) -> None:  # noqa: ANN001
    old = suppressions.SuppressionRequest(
        "g@example.com", "expired", "soft", "expired", expires_at=T0 + timedelta(days=14)
    )
    suppressions.upsert(db, old, T0)
    delivered = postfix_dsn("g@example.com", "2.0.0", "250 Ok", action="delivered", at=T0)
    assert receive(db, delivered, T0 + timedelta(hours=1)) == ["suppression.removed"]
    manual = suppressions.SuppressionRequest(
        "h@example.com", "asked", "soft", "manual", expires_at=T0 + timedelta(days=14)
    )
    suppressions.upsert(db, manual, T0)
    delivered = postfix_dsn("h@example.com", "2.0.0", "250 Ok", action="delivered", at=T0)
    assert receive(db, delivered, T0 + timedelta(hours=1)) == []
