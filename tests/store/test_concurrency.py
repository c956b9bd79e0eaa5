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
