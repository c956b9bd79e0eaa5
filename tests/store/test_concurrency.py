"""Two connections writing at once (intake and an operator's command) never fail each other."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bouncer.app.editing import add_manual
from bouncer.store import events, inbox, open_db, suppressions
from bouncer.store.inbox import Incoming

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_read_then_write_transactions_wait_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    open_db(path).close()
    done = threading.Event()
    inserted = []

    def intake() -> None:
        db = open_db(path)
        while not done.is_set():
            inserted.extend(
                inbox.insert_batch(db, [Incoming(NOW, "<>", ("b@localhost",), None, b"x" * 200)])
            )
            time.sleep(0.002)  # as intake does between batches; SQLite's busy wait is not fair
        db.close()

    writer = threading.Thread(target=intake)
    writer.start()
    db = open_db(path)
    try:
        for number in range(150):
            add_manual(db, f"a{number}@example.com", "test", "hard", None, NOW, "test")
    finally:
        done.set()
        writer.join()
    assert len(suppressions.list_active(db, NOW)) == 150
    assert len(inserted) > 0


def test_writers_on_the_same_addresses_at_once_lose_no_update(store_url: str) -> None:
    """Four connections (four nodes, on PostgreSQL) suppress the same new addresses at once,
    each from its own reports: every address is added once and counts every report."""
    addresses = [f"same{n}@example.com" for n in range(25)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def node(number: int) -> None:
        db = open_db(store_url)
        try:
            start.wait()
            for address in addresses:
                request = suppressions.SuppressionRequest(
                    address, "userunknown", "hard", "bounce", message_id=number
                )
                with db.atomic():
                    suppressions.upsert(db, request, NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=node, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = open_db(store_url)
    try:
        rows = suppressions.list_active(db, NOW)
    finally:
        db.close()
    assert sorted(row["address"] for row in rows) == sorted(addresses)
    assert {row["count"] for row in rows} == {4}


def test_a_write_outside_a_transaction_waits_for_the_open_writer_on_postgresql(
    pg_cluster,
    pg_template,  # noqa: ANN001
) -> None:
    """As on SQLite, nothing commits while another connection's write transaction is open
    (so events commit in seq order, which the webhook cursors rely on)."""
    name = pg_cluster.new_database(pg_template)
    first, second = open_db(pg_cluster.url(name)), open_db(pg_cluster.url(name))
    added: list[dict] = []
    late = threading.Thread(
        target=lambda: added.append(events.add(second, "bounce.soft", NOW, "b@example.com", {}))
    )
    try:
        with first.atomic():
            held = events.add(first, "bounce.hard", NOW, "a@example.com", {})
            late.start()
            _wait_for_a_waiting_lock(first)
            assert added == []
        late.join()
        assert [e["seq"] for e in events.search(first)] == [held["seq"], added[0]["seq"]]
    finally:
        first.close()
        second.close()
        pg_cluster.drop(name)


def _wait_for_a_waiting_lock(db, seconds: float = 10.0) -> None:  # noqa: ANN001
    """Return once some session waits for an advisory lock; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    query = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    while db.conn.raw.execute(query).fetchone()[0] == 0:
        assert time.monotonic() < deadline, "the second writer did not wait for the lock"
        time.sleep(0.01)
