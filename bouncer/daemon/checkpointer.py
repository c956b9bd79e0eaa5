"""The checkpointer: copies the write-ahead log back into the database file, off the write paths.

In WAL mode every commit appends pages to the log; a checkpoint copies them into the file so the
log can start over. By default SQLite runs it inside the commit that crosses 1,000 log pages,
so a message's processing (or a sender's 250) now and then waits for the pages of many earlier
commits to be copied, and the more the file outgrows the cache, the more that copy costs. The
daemon's writers open their connections with `checkpoint_on_commit=False`, and this loop, on a
thread and connection of its own, runs a PASSIVE checkpoint every `interval` seconds: it never
waits for readers and never blocks a writer (sqlite.org/wal.html#ckpt).
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlite_utils import Database

from bouncer.daemon.health import Health
from bouncer.store import open_db, wal_checkpoint

LOOP = "checkpointer"


class Checkpointer:
    """Runs a PASSIVE checkpoint every `interval` seconds on its own thread and connection."""

    def __init__(self, db_path: str | Path, health: Health, interval: float = 1.0) -> None:
        self._db_path = db_path
        self._health = health
        self._interval = interval
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="bouncer-checkpoint")
        self._db: Database | None = None
        self.copied = 0  # log pages copied into the file by the last checkpoint

    async def run(self) -> None:
        """Checkpoint, then sleep `interval`, until cancelled (a failure is raised to the
        supervisor, which starts the loop again with backoff)."""
        loop = asyncio.get_running_loop()
        while True:
            await loop.run_in_executor(self._executor, self._checkpoint)
            self._health.beat(LOOP)
            await asyncio.sleep(self._interval)

    async def close(self) -> None:
        """Close the connection and the thread (SQLite checkpoints when the last one closes)."""
        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    def _checkpoint(self) -> None:
        """Run one checkpoint on this thread's connection (opened on first use, dropped when a
        checkpoint fails so that the next one starts afresh)."""
        if self._db is None:
            self._db = open_db(self._db_path)
        try:
            _logged, self.copied = wal_checkpoint(self._db)
        except Exception:
            db, self._db = self._db, None
            with contextlib.suppress(Exception):  # the connection is being thrown away
                db.close()
            raise
