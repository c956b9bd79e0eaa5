"""The tracker run against a real SQLite store through `process`: deferral rows, scores,
suppressions and their events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bouncer.processor import process
from bouncer.store import deferrals, events, inbox, open_db, suppressions
from bouncer.store.inbox import Incoming
from bouncer.tracker import DEFAULT_POLICY
from bouncer.tracking import sweep
from tests.messages import postfix_dsn

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FULL = "452 4.2.2 Mailbox full"


@pytest.fixture
def db(tmp_path: Path):  # noqa: ANN201
    database = open_db(tmp_path / "t.db")
    yield database
    database.close()


def receive(db, raw: bytes, at: datetime) -> list[str]:  # noqa: ANN001
    """Store a message as received at `at`, process it then; return the event types."""
    (message_id,) = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
    message = next(m for m in inbox.unprocessed(db) if m.id == message_id)
    return [e["type"] for e in process(db, message, at).events]


def test_give_up_suppression_is_lifted_by_a_later_delivery(db) -> None:  # noqa: ANN001
    gave_up = receive(db, postfix_dsn("a@example.com", "4.2.2", FULL, arrival=None), T0)
    assert gave_up == ["delivery.given_up", "suppression.added"]
    assert suppressions.get(db, "a@example.com", T0)["reason"] == "expired"
    delivered = postfix_dsn("a@example.com", "2.0.0", "250 2.0.0 Ok", action="delivered")
    assert receive(db, delivered, T0 + timedelta(days=1)) == ["suppression.removed"]
    assert suppressions.get(db, "a@example.com", T0 + timedelta(days=1)) is None


def test_hard_suppression_stays_after_a_delivery(db) -> None:  # noqa: ANN001
    unknown = "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown"
    assert receive(db, postfix_dsn("a@example.com", "5.1.1", unknown), T0) == [
        "bounce.hard",
        "suppression.added",
    ]
    delivered = postfix_dsn("a@example.com", "2.0.0", "250 2.0.0 Ok", action="delivered")
    assert receive(db, delivered, T0 + timedelta(days=1)) == []
    assert suppressions.get(db, "a@example.com", T0 + timedelta(days=2)) is not None


def test_hard_bounce_closes_every_open_deferral_of_the_address(db) -> None:  # noqa: ANN001
    for number in (1, 2):
        raw = postfix_dsn(
            "a@example.com",
            "4.2.2",
            FULL,
            action="delayed",
            arrival=None,
            message_id=f"<m{number}@shop.example>",
        )
        receive(db, raw, T0)
    assert len(deferrals.open_for(db, "a@example.com")) == 2
    unknown = "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown"
    receive(db, postfix_dsn("a@example.com", "5.1.1", unknown, message_id="<m3@x>"), T0)
    assert deferrals.open_for(db, "a@example.com") == []
    assert sweep(db, T0 + timedelta(days=5), DEFAULT_POLICY) == []


def test_soft_bounces_on_five_days_escalate_once(db) -> None:  # noqa: ANN001
    blocked = "554 5.7.1 Service unavailable; client host blocked using a blocklist"
    seen = []
    for day in range(5):
        raw = postfix_dsn("b@example.com", "5.7.1", blocked, message_id=f"<d{day}@shop>")
        seen.append(receive(db, raw, T0 + timedelta(days=day, hours=1)))
        receive(db, raw, T0 + timedelta(days=day, hours=2))  # twice a day counts once
    assert all("suppression.added" not in types for types in seen[:4])
    assert "suppression.added" in seen[4]
    row = suppressions.get(db, "b@example.com", T0 + timedelta(days=5))
    assert row["source"] == "escalation" and row["class"] == "soft"
    assert row["expires_at"] is not None


def test_events_and_state_commit_together(db) -> None:  # noqa: ANN001
    receive(db, postfix_dsn("c@example.com", "4.2.2", FULL, action="delayed", arrival=None), T0)
    fired = []
    with pytest.raises(RuntimeError), db.atomic():
        fired = sweep(db, T0 + timedelta(hours=5), DEFAULT_POLICY)
        raise RuntimeError("the caller's transaction fails after the sweep")
    assert [e["type"] for e in fired] == ["delivery.delayed"]
    assert events.search(db, event_type="delivery.delayed") == []
    assert deferrals.open_for(db, "c@example.com")[0][1].warned_at is None
