"""Failure counts per bucket over a time window, on a real database filled by processing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bouncer.app.processing import process
from bouncer.clock import to_iso
from bouncer.store import inbox, stats
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn

T0 = datetime(2026, 5, 4, 9, 15, tzinfo=UTC)


def _received(db, at: datetime, recipient: str, status: str, text: str, **kw) -> None:  # noqa: ANN001, ANN003
    raw = postfix_dsn(recipient, status, text, at=at, report_id=f"{recipient}-{at}", **kw)
    [message_id] = inbox.insert_batch(db, [Incoming(at, "<>", ("b@localhost",), None, raw)])
    process(db, next(m for m in inbox.unprocessed(db) if m.id == message_id), at)


@pytest.fixture
def db(store):  # noqa: ANN001, ANN201
    db = store
    _received(db, T0, "a@example.org", "5.1.1", "550 5.1.1 user unknown")
    _received(db, T0 + timedelta(minutes=5), "b@example.org", "5.1.1", "550 5.1.1 no such user")
    _received(db, T0 + timedelta(hours=1), "c@example.net", "5.2.2", "552 5.2.2 mailbox full")
    _received(db, T0 + timedelta(hours=1), "d@example.net", "2.0.0", "250 ok", action="delivered")
    _received(db, T0 + timedelta(days=2), "e@example.com", "5.1.1", "550 5.1.1 unknown")
    return db


def test_counts_by_each_bucket_within_the_window(db) -> None:  # noqa: ANN001
    since, until = to_iso(T0 - timedelta(hours=1)), to_iso(T0 + timedelta(days=1))
    assert stats.counts(db, "class", since, until) == [("hard", 2), ("soft", 1)]
    assert stats.counts(db, "reason", since, until) == [("userunknown", 2), ("mailboxfull", 1)]
    assert stats.counts(db, "domain", since, until) == [("example.org", 2), ("example.net", 1)]
    assert stats.counts(db, "hour", since, until) == [
        ("2026-05-04T09:00Z", 2),
        ("2026-05-04T10:00Z", 1),
    ]
    assert stats.counts(db, "kind", since) == [("bounce", 4)]  # no end: up to now


def test_an_unknown_bucket_is_refused(db) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="one of reason, class, kind, domain, hour"):
        stats.counts(db, "weekday", to_iso(T0))
