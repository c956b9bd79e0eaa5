"""The alert tables on a real SQLite file: counts added and read back by window, the top
scopes, episodes saved, found by scope and time, checked and pruned."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bouncer.core.episodes import Episode
from bouncer.store import alerts, open_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def db(tmp_path: Path):  # noqa: ANN201
    database = open_db(tmp_path / "alerts.db")
    yield database
    database.close()


def test_counts_add_up_per_bucket_and_are_read_by_window(db) -> None:  # noqa: ANN001
    alerts.add_counts(db, {("all", T0): 3, ("all", T0 + MINUTE): 2, ("domain:a.example", T0): 1})
    alerts.add_counts(db, {("all", T0): 4})
    assert alerts.buckets(db, "all", T0 - MINUTE, T0 + MINUTE) == [(T0, 7), (T0 + MINUTE, 2)]
    assert alerts.total(db, "all", T0 - MINUTE, T0 + MINUTE) == 9
    assert alerts.total(db, "all", T0, T0 + MINUTE) == 2  # a window's start is exclusive
    assert alerts.total(db, "all", T0 - MINUTE, T0) == 7  # its end inclusive
    assert alerts.total(db, "domain:b.example", T0 - MINUTE, T0) == 0


def test_the_top_scopes_of_a_kind_most_first(db) -> None:  # noqa: ANN001
    alerts.add_counts(
        db,
        {
            ("domain:a.example", T0): 2,
            ("domain:b.example", T0): 5,
            ("domain:c.example", T0 - 90 * MINUTE): 50,  # outside the window
            ("reason:userunknown", T0): 7,
            ("all", T0): 7,
        },
    )
    after = T0 - 60 * MINUTE
    assert alerts.top(db, "domain", after, T0) == [("b.example", 5), ("a.example", 2)]
    assert alerts.top(db, "reason", after, T0) == [("userunknown", 7)]
    assert alerts.top(db, "domain", after, T0, limit=1) == [("b.example", 5)]


def test_old_buckets_are_pruned_a_batch_at_a_time(db) -> None:  # noqa: ANN001
    alerts.add_counts(db, {("all", T0 + i * MINUTE): 1 for i in range(10)})
    assert alerts.prune_counts(db, T0 + 5 * MINUTE, limit=3) == 3
    assert alerts.prune_counts(db, T0 + 5 * MINUTE) == 2
    assert alerts.total(db, "all", T0 - MINUTE, T0 + 60 * MINUTE) == 5


def test_episodes_are_saved_found_by_time_and_one_is_open_per_scope(db) -> None:  # noqa: ANN001
    first = alerts.save(db, Episode("provider:google", T0, T0, 20, 20, "e1"))
    assert first.id is not None
    assert alerts.latest(db, "provider:google") == first
    assert alerts.during(db, "provider:google", T0 + MINUTE) == first
    assert alerts.during(db, "provider:google", T0 - MINUTE) is None
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        alerts.save(db, Episode("provider:google", T0 + MINUTE, T0 + MINUTE, 20, 20))
    end = T0 + 30 * MINUTE
    ended = alerts.save(db, Episode("provider:google", T0, end, 20, 31, "e1", end, first.id))
    assert alerts.latest(db, "provider:google") == ended
    assert alerts.during(db, "provider:google", end - MINUTE) == ended
    assert alerts.during(db, "provider:google", end) is None
    second = alerts.save(db, Episode("provider:google", end + MINUTE, end + MINUTE, 20, 20))
    assert alerts.latest(db, "provider:google") == second
    assert alerts.latest(db, "provider:google", at=end) == ended


def test_open_episodes_to_check_and_ended_ones_pruned(db) -> None:  # noqa: ANN001
    alerts.save(db, Episode("all", T0, T0, 10, 10))
    alerts.save(db, Episode("domain:a.example", T0, T0 + 2 * MINUTE, 10, 10))
    alerts.save(db, Episode("domain:b.example", T0, T0, 10, 10, ended_at=T0 + MINUTE))
    assert [e.scope for e in alerts.unchecked(db, T0 + MINUTE)] == ["all"]
    assert set(alerts.open_episodes(db)) == {"all", "domain:a.example"}
    assert len(alerts.unchecked(db, T0 + 3 * MINUTE)) == 2
    assert alerts.prune_episodes(db, T0 + MINUTE) == 0
    assert alerts.prune_episodes(db, T0 + 2 * MINUTE) == 1
    assert alerts.latest(db, "domain:b.example") is None
    assert alerts.latest(db, "all") is not None
