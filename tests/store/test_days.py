"""Lookups on the day-first indexes (bouncer.store.days, migrations 13 and 14): records, events and
deferrals of an address, a domain, a return path or a Message-ID are found on every day they
were stored, newest first, page by page, on both backends; with a small slice of days the
lookup runs over several statements and stops when its page is full."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bouncer.core.model import Entry, Original, Report, Verdict
from bouncer.core.tracker_types import Deferral
from bouncer.store import days, deferrals, events, records
from bouncer.store.records import Receipt

T0 = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
# (days after T0, recipient, the original's Message-ID): gaps of days with no record at all
STORED = [
    (0, "a@one.example", "<m1@shop>"),
    (0, "b@two.example", "<m2@shop>"),
    (1, "A@One.example", "<m1@shop>"),
    (1, "c@one.example", "<m3@shop>"),
    (4, "a@one.example", "<m1@shop>"),
    (9, "d@one.example", "<m4@shop>"),
    (9, "a@one.example", "<m5@shop>"),
    (30, "b@two.example", "<m1@shop>"),
]


@pytest.fixture
def db(store):  # noqa: ANN001, ANN201
    store.execute(
        "INSERT INTO messages (id, received_at, mail_from, rcpt_to, size, raw) "
        "VALUES (1, 'x', '<>', '[]', 0, ?)",
        (b"",),
    )
    for n, (day, address, message_id) in enumerate(STORED):
        at = T0 + timedelta(days=day, minutes=n)  # 23:30 onwards: some cross midnight UTC
        report = Report(kind="bounce", original=Original(message_id=message_id))
        entry = Entry(address, action="failed", status="5.1.1", diagnostic="no such user")
        verdict = Verdict("hard", "userunknown", "5.1.1")
        records.insert(store, Receipt(1, at, "b@localhost"), report, entry, verdict)
        events.add(store, "bounce.hard", at, address, {"n": n})
    return store


def _expected(match) -> list[int]:  # noqa: ANN001
    """The positions in STORED that match, newest first."""
    return [n for n in reversed(range(len(STORED))) if match(STORED[n])]


def _walk(db, limit: int, **filters) -> list[int]:  # noqa: ANN001
    """Every record a filter finds, page by page; returned as positions in STORED."""
    found, after = [], None
    while True:
        page = records.page(db, after=after, limit=limit, **filters)
        assert len(page) <= limit
        found += [STORED.index(_row(r)) for _, r in page]
        if len(page) < limit:
            return found
        after = page[-1][0]


def _row(record: dict) -> tuple:
    at = datetime.fromisoformat(record["received_at"].replace("Z", "+00:00"))
    n = round((at - T0).total_seconds() % 86400 / 60)
    return STORED[n]


@pytest.mark.parametrize("per_statement", [days.SLICE, 2])
@pytest.mark.parametrize("limit", [1, 2, 100])
def test_records_are_found_on_every_day_page_by_page(
    db,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
    per_statement: int,
    limit: int,
) -> None:
    monkeypatch.setattr(days, "SLICE", per_statement)
    about_a = _expected(lambda s: s[1].lower() == "a@one.example")
    assert _walk(db, limit, recipient="a@ONE.example") == about_a == [6, 4, 2, 0]
    in_one = _expected(lambda s: s[1].lower().endswith("@one.example"))
    assert _walk(db, limit, recipient="@one.example") == in_one
    assert _walk(db, limit, orig_message_id="m1@shop") == _expected(lambda s: s[2] == "<m1@shop>")
    assert _walk(db, limit, recipient="nobody@one.example") == []
    assert _walk(db, limit) == _expected(lambda s: True)


def test_time_bounds_cut_the_days_searched(db) -> None:  # noqa: ANN001
    since, until = (T0 + timedelta(days=1)).isoformat(), (T0 + timedelta(days=9)).isoformat()
    found = records.page(db, recipient="a@one.example", since=since, until=until)
    assert [STORED.index(_row(r)) for _, r in found] == [4, 2]
    assert [r["recipient"] for r in records.search(db, recipient="@two.example")] == [
        "b@two.example",
        "b@two.example",
    ]


@pytest.mark.parametrize("per_statement", [days.SLICE, 3])
def test_an_address_events_are_found_on_every_day_in_commit_order(
    db,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
    per_statement: int,
) -> None:
    monkeypatch.setattr(days, "SLICE", per_statement)
    listed = events.search(db, recipient="a@one.example")
    assert [e["n"] for e in listed] == [0, 2, 4, 6]
    assert [e["n"] for e in events.search(db, recipient="a@one.example", newest_first=True)] == [
        6,
        4,
        2,
        0,
    ]
    assert [e["n"] for e in events.search(db, recipient="a@one.example", limit=2)] == [0, 2]
    after = events.search(db, recipient="a@one.example", after_seq=listed[1]["seq"])
    assert [e["n"] for e in after] == [4, 6]


def test_the_days_span_from_the_newest_row_to_the_oldest(store) -> None:  # noqa: ANN001
    assert days.span(store, "bounces", "received_at") == []
    for offset in (0, 3):
        at = T0 + timedelta(days=offset)
        events.add(store, "bounce.hard", at, "a@one.example", {})
    spanned = days.span(store, "events", "recorded_at")
    assert spanned == ["2026-03-05", "2026-03-04", "2026-03-03", "2026-03-02"]
    assert days.span(store, "events", "recorded_at", since="2026-03-04T00:00:00Z") == spanned[:2]
    assert days.span(store, "events", "recorded_at", until="2026-03-03T10:00:00Z") == spanned[2:]
    assert days.span(store, "events", "recorded_at", "2026-03-06", "2026-03-07") == []


def test_records_by_return_path_are_found_on_every_day(store) -> None:  # noqa: ANN001
    store.execute(
        "INSERT INTO messages (id, received_at, mail_from, rcpt_to, size, raw) "
        "VALUES (1, 'x', '<>', '[]', 0, ?)",
        (b"",),
    )
    senders = ["News@shop.example", "other@shop.example", "news+Tag1-r2=one.example@shop.example"]
    for n, sender in enumerate(senders * 3):
        at = T0 + timedelta(days=3 * n)
        entry = Entry(f"r{n}@one.example", action="failed", status="5.1.1")
        receipt = Receipt(1, at, sender)
        records.insert(store, receipt, Report(kind="bounce"), entry, Verdict("hard", "x", "5.1.1"))

    def found(**filters) -> list[int]:  # noqa: ANN003
        return [int(r["recipient"][1]) for _, r in records.page(store, **filters)]

    # without a subaddress: that return path and every `news+...` one (RFC 5233), any case
    first = records.page(store, sender="news@SHOP.example", limit=4)
    assert [int(r["recipient"][1]) for _, r in first] == [8, 6, 5, 3]
    rest = records.page(store, sender="news@shop.example", after=first[-1][0])
    assert [int(r["recipient"][1]) for _, r in rest] == [2, 0]
    # with one: that return path only
    assert found(sender="NEWS+tag1-r2=one.example@shop.example") == [8, 5, 2]
    assert found(sender="news+other@shop.example") == []
    assert found(sender="ews@shop.example") == []
    assert found(sender="other@shop.example", recipient="@one.example") == [7, 4, 1]
    assert found(sender="news@shop.example", recipient="r5@one.example") == [5]
    assert found(sender="news+tag1-r2=one.example@shop.example", recipient="@one.example") == [
        8,
        5,
        2,
    ]


@pytest.mark.parametrize("per_statement", [days.SLICE, 1])
def test_an_address_deferrals_are_found_on_every_day_last_seen_first(
    store,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
    per_statement: int,
) -> None:
    monkeypatch.setattr(days, "SLICE", per_statement)
    for n, (day, address, final) in enumerate(
        [
            (0, "a@one.example", None),
            (2, "b@one.example", "A@one.example"),
            (5, "a@one.example", None),
        ]
    ):
        at = T0 + timedelta(days=day)
        deferral = Deferral(
            address, f"k{n}", at, at, at + timedelta(hours=n), final_recipient=final
        )
        closed = replace(deferral, closed_at=at, close_reason="delivered") if n == 0 else deferral
        deferrals.save(store, None, closed, None)
    listed = deferrals.listing(store, recipient="a@ONE.example")
    assert [d["key"] for d in listed] == ["k2", "k1", "k0"]
    assert [d["key"] for d in deferrals.listing(store, recipient="a@one.example", limit=1)] == [
        "k2"
    ]
    opened = deferrals.listing(store, recipient="a@one.example", open_only=True)
    assert [d["key"] for d in opened] == ["k2", "k1"]
    assert [d["key"] for d in deferrals.listing(store)] == ["k2", "k1", "k0"]
    assert deferrals.listing(store, recipient="c@one.example") == []


def test_a_lookup_seeks_its_key_on_each_day(tmp_path) -> None:  # noqa: ANN001
    """Each day-first index is entered by (day, key) equalities: a day searched by a range
    (`orig_message_id>?`, all of a day's records) costs as much as the day is large."""
    from bouncer.store import open_db

    db = open_db(tmp_path / "plans.db")
    db.execute(
        "INSERT INTO messages (id, received_at, mail_from, rcpt_to, size, raw) "
        "VALUES (1, 'x', '<>', '[]', 0, ?)",
        (b"",),
    )
    for day in range(1, 29):  # the planner weighs an IN list of many days differently
        db.conn.execute(
            "INSERT INTO bounces (message_id, received_at, kind, recipient, class, reason, "
            "recipient_key) VALUES (1, ?, 'bounce', 'x@y', 'hard', 'x', 'x@y')",
            (f"2026-02-{day:02}T10:00:00.000Z",),
        )
    traced: list[str] = []
    db.conn.set_trace_callback(traced.append)
    for lookup in (
        {"recipient": "a@one.example"},
        {"recipient": "@one.example"},
        {"sender": "news@shop.example"},
        {"orig_message_id": "m1@shop"},
    ):
        traced.clear()
        records.page(db, **lookup)
        [sql] = [s for s in traced if "INDEXED" in s or "SELECT * FROM" in s]
        plan = [row[3] for row in db.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        searches = [line for line in plan if line.startswith("SEARCH bounces")]
        assert searches and all(re.search(r"\(<expr>=\? AND [^)]*=\?\)", s) for s in searches), (
            lookup,
            plan,
        )
    db.close()
