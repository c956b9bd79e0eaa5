"""Two connections writing at once (intake and an operator's command) never fail each other."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bouncer.app.editing import add_manual
from bouncer.store import inbox, open_db, suppressions
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
