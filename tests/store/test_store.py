"""The store on each backend (a real SQLite file, a real PostgreSQL database): opening,
suppressions, records, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bouncer.core.addresses import Identity
from bouncer.core.model import Entry, Report, Verdict
from bouncer.store import StoreError, events, open_db, records, suppression_bulk, suppressions
from bouncer.store.records import Receipt
from bouncer.store.schema import MIGRATIONS
from bouncer.store.suppressions import SuppressionRequest

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(store):  # noqa: ANN001, ANN201
    return store


def test_open_creates_migrates_and_uses_wal(tmp_path: Path) -> None:
    """SQLite only: PRAGMAs and the WAL are SQLite's."""
    db = open_db(tmp_path / "s.db")
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"messages", "bounces", "suppressions", "events"} <= set(db.table_names())


def test_open_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        open_db(tmp_path / "missing.db", create=False)


def test_suppression_lookup_ignores_case_and_keeps_the_written_form(db) -> None:  # noqa: ANN001
    suppressions.upsert(
        db, SuppressionRequest("Jo@Example.COM", "userunknown", "hard", "bounce"), NOW
    )
    for asked in ("Jo@example.com", "<Jo@EXAMPLE.com>", "jo@example.com", "JO@EXAMPLE.COM"):
        assert suppressions.get(db, asked, NOW)["address"] == "Jo@Example.COM"
    assert suppressions.get(db, "jo@example.co", NOW) is None


def test_local_part_case_is_kept_when_the_database_says_so(new_store) -> None:  # noqa: ANN001
    url = new_store(empty=True)
    exact = open_db(url, identity=Identity(keep_local_case=True))
    suppressions.upsert(
        exact, SuppressionRequest("Jo@Example.COM", "userunknown", "hard", "bounce"), NOW
    )
    assert suppressions.get(exact, "<Jo@EXAMPLE.com>", NOW) is not None
    assert suppressions.get(exact, "jo@example.com", NOW) is None
    exact.close()
    again = open_db(url)
    assert again.identity == Identity(keep_local_case=True)
    again.close()
    with pytest.raises(StoreError, match="local part's case .* = false asks"):
        open_db(url, identity=Identity())


def test_repeat_suppression_counts_and_permanent_is_not_downgraded(db) -> None:  # noqa: ANN001
    hard = SuppressionRequest("a@example.com", "userunknown", "hard", "bounce", "5.1.1")
    assert suppressions.upsert(db, hard, NOW) is True
    soft = SuppressionRequest(
        "a@example.com", "expired", "soft", "expired", expires_at=NOW + timedelta(days=14)
    )
    assert suppressions.upsert(db, soft, NOW + timedelta(hours=1)) is False
    row = suppressions.get(db, "a@example.com", NOW + timedelta(days=30))
    assert (row["reason"], row["count"], row["expires_at"]) == ("userunknown", 2, None)


def test_expired_suppressions_are_inactive_and_taken(db) -> None:  # noqa: ANN001
    request = SuppressionRequest(
        "b@example.com", "expired", "soft", "expired", expires_at=NOW + timedelta(days=1)
    )
    suppressions.upsert(db, request, NOW)
    assert suppressions.get(db, "b@example.com", NOW + timedelta(hours=23)) is not None
    assert suppressions.get(db, "b@example.com", NOW + timedelta(days=2)) is None
    assert [r["address"] for r in suppressions.take_expired(db, NOW + timedelta(days=2))] == [
        "b@example.com"
    ]
    assert suppressions.list_active(db, NOW) == []


def test_bounce_log_filters_and_orders_newest_first(db) -> None:  # noqa: ANN001
    db.execute(
        "INSERT INTO messages (id, received_at, mail_from, rcpt_to, size, raw) "
        "VALUES (1, 'x', '<>', '[]', 0, ?)",
        (b"",),
    )
    report = Report(kind="bounce")
    for hours, address in ((1, "a@one.example"), (2, "b@two.example"), (3, "a@one.example")):
        entry = Entry(address, action="failed", status="5.1.1", diagnostic="no such user")
        receipt = Receipt(1, NOW + timedelta(hours=hours), "b@localhost")
        records.insert(db, receipt, report, entry, Verdict("hard", "userunknown", "5.1.1"))
    rows = records.search(db, recipient="a@ONE.example")
    assert [r["received_at"][11:13] for r in rows] == ["15", "13"]
    assert len(records.search(db, recipient="@two.example")) == 1
    assert len(records.search(db, since="2026-11-24T14:30:00.000Z")) == 1


def test_events_are_listed_in_order_with_their_data(db) -> None:  # noqa: ANN001
    first = events.add(db, "bounce.hard", NOW, "a@example.com", {"reason": "userunknown"})
    events.add(db, "suppression.added", NOW, "a@example.com", {"source": "bounce"})
    listed = events.search(db)
    assert [e["type"] for e in listed] == ["bounce.hard", "suppression.added"]
    assert listed[0]["id"] == first["id"] and listed[0]["reason"] == "userunknown"
    assert [e["type"] for e in events.search(db, after_seq=first["seq"])] == ["suppression.added"]


def test_event_ids_are_time_ordered(db) -> None:  # noqa: ANN001
    """Ids follow insertion order (UUIDv7), so their unique index grows at its end."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    ids = [events.add(db, "bounce.hard", at, f"u{n}@example.org", {})["id"] for n in range(50)]
    assert ids == sorted(ids) and len(set(ids)) == 50
    assert all(len(event_id) == 32 and int(event_id, 16) for event_id in ids)


def test_the_list_in_bulk_is_written_looked_up_and_read_in_key_order(db) -> None:  # noqa: ANN001
    stamp = "2026-11-24T12:00:00.000Z"
    rows = [
        {
            "address": f"User{n}@Example.com",
            "reason": "userunknown",
            "class": "hard",
            "source": "manual",
            "first_seen": stamp,
            "last_seen": stamp,
            "count": 1,
            "expires_at": "2026-11-25T00:00:00.000Z" if n == 3 else None,
        }
        for n in range(5)
    ]
    with db.atomic():
        suppression_bulk.insert_many(db, rows)
        suppression_bulk.insert_many(db, [{**rows[0], "reason": "feedback"}])  # replaces it
        suppression_bulk.update_many(db, [{**rows[1], "count": 7}])
    found = suppression_bulk.active_by_key(db, ["user0@example.com", "nobody@example.com"], NOW)
    assert list(found) == ["user0@example.com"] and found["user0@example.com"]["reason"] == (
        "feedback"
    )
    later = NOW + timedelta(days=2)  # user3's entry has expired by then
    listed = list(suppression_bulk.active(db, later, page=2))
    assert [row["address"] for row in listed] == [f"User{n}@Example.com" for n in (0, 1, 2, 4)]
    assert listed[1]["count"] == 7
    many = suppressions.find_many(db, ["USER2@example.com", "user3@example.com", "x@y.z"], later)
    assert list(many) == ["USER2@example.com"]
    assert not db.conn.in_transaction  # the read transaction ended with the pages
