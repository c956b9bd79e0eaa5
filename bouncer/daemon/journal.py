"""Log every event row once, as it is committed, whoever committed it.

The daemon follows the events table: events its own loops commit and events a `bouncer`
command commits (sweep, resolve, suppression add/remove, reprocess) all reach the service's
journal, each once, in commit order. Events committed while the daemon was down are not
replayed (they are in the table: `bouncer events`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial

from sqlite_utils import Database

from bouncer.app import notify
from bouncer.daemon.health import Health
from bouncer.store import events

LOOP = "journal"
BATCH = 500


class Journal:
    """Follows the events table from its newest row at start and logs each new one."""

    def __init__(
        self,
        call: Callable[[Callable[[Database], object]], Awaitable[object]],
        health: Health,
        interval: float = 1.0,
        on_rows: Callable[[list[dict]], None] | None = None,
    ) -> None:
        """`on_rows(rows)` is told each batch of committed event rows once they are logged
        (the metrics count them)."""
        self._call = call
        self._on_rows = on_rows
        self._health = health
        self._interval = interval
        self._last_seq: int | None = None
        self._wake = asyncio.Event()

    def wake(self, *_reason: object) -> None:
        """Look for new events now (after the daemon committed some)."""
        self._wake.set()

    async def run(self) -> None:
        """Log new events whenever woken or every interval, until cancelled."""
        if self._last_seq is None:
            self._last_seq = await self._call(_newest)
        while True:
            self._wake.clear()
            await self._pass()
            self._health.beat(LOOP)
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()

    async def _pass(self) -> None:
        """Log every event committed since the last one logged."""
        while True:
            rows = await self._call(partial(_after, after=self._last_seq or 0))
            if not rows:
                return
            notify.emit(rows)
            if self._on_rows is not None:
                self._on_rows(rows)
            self._last_seq = rows[-1]["seq"]
            if len(rows) < BATCH:
                return


def _newest(db: Database) -> int:
    """Return the newest event's seq (0 without events)."""
    row = db.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
    return int(row[0])


def _after(db: Database, after: int) -> list[dict]:
    """Return up to BATCH events committed after seq `after`."""
    return events.search(db, after_seq=after, limit=BATCH)
