"""The checkpointer: copies the write-ahead log back into the database file, off the write paths.

In WAL mode every commit appends pages to the log; a checkpoint copies them into the file so the
log can start over. By default SQLite runs it inside the commit that crosses 1,000 log pages,
so a message's processing (or a sender's 250) now and then waits for the pages of many earlier
commits to be copied, and the more the file outgrows the cache, the more that copy costs. The
daemon's writers open their connections with `checkpoint_on_commit=False`, and this loop, on a
thread and connection of its own, runs a PASSIVE checkpoint every `interval` seconds (0.25;
every 0.1 s while the log fills): it never waits for readers and never blocks a writer
(sqlite.org/wal.html#ckpt).

A PASSIVE checkpoint cannot let the log start over while writes keep coming (a flood of bounces
for minutes): when the log holds more than `RESTART_PAGES` after one, the checkpointer runs a
RESTART checkpoint in turn with the daemon's writers (the writers' lock), which holds them for
the few pages written since and makes the next commit start the log over, so the log file stays
bounded (a full file system would otherwise stop intake).
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlite_utils import Database

from bouncer.daemon.health import Health
from bouncer.store import close_quietly, open_db, wal_checkpoint

LOOP = "checkpointer"
RESTART_PAGES = 1024  # 4 MB of 4 KB pages
FLOODED_INTERVAL = 0.1  # seconds to the next look while writes keep coming
FLOODED_PAGES = 128  # pages in the log at a look that mean writes keep coming


class Checkpointer:
    """Runs a PASSIVE checkpoint every `interval` seconds on its own thread and connection."""

    def __init__(self, db_path: str | Path, health: Health, interval: float = 0.25) -> None:
        self._db_path = db_path
        self._health = health
        self._interval = interval
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="bouncer-checkpoint")
        self._db: Database | None = None
        self.copied = 0  # log pages copied into the file by the last checkpoint
        self.restarts = 0  # RESTART checkpoints run (the log was over RESTART_PAGES)

    async def run(self) -> None:
        """Checkpoint, then sleep `interval` (FLOODED_INTERVAL while the log fills), until
        cancelled. A checkpoint that fails for the database's sake (a full disk) is tried again
        at the next interval, reported to health: the checkpointer is what gives the log's space
        back, so it must not back off while writers wait for that space; any other failure is
        raised to the supervisor, which starts the loop again with backoff."""
        loop = asyncio.get_running_loop()
        while True:
            logged = 0
            try:
                logged = await loop.run_in_executor(self._executor, self._checkpoint)
            except sqlite3.OperationalError as exc:
                self._health.fail(LOOP, exc)
            else:
                self._health.beat(LOOP)
            flooded = logged > FLOODED_PAGES
            await asyncio.sleep(FLOODED_INTERVAL if flooded else self._interval)

    async def close(self) -> None:
        """Close the connection and the thread (SQLite checkpoints when the last one closes)."""
        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    def _checkpoint(self) -> int:
        """Run one checkpoint on this thread's connection (opened on first use, dropped when a
        checkpoint fails so that the next one starts afresh); return the pages the log held."""
        if self._db is None:
            self._db = open_db(self._db_path, take_turns=True)
        try:
            try:
                state = wal_checkpoint(self._db)
            except sqlite3.OperationalError:
                # A full file system: copy everything and give the log's space back, in turn
                # with the writers (none appends to the log meanwhile); raised if it fails too.
                state = wal_checkpoint(self._db, truncate=True)
            self.copied = state.copied
            if state.logged > RESTART_PAGES and not wal_checkpoint(self._db, restart=True).busy:
                self.restarts += 1  # (a reader kept it busy: tried again at the next look)
            return state.logged
        except Exception:
            self._db = close_quietly(self._db)
            raise
