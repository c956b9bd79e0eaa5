"""The processor: turns stored raw messages into records on one worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import structlog
from sqlite_utils import Database

from bouncer import notify
from bouncer.clock import utcnow
from bouncer.processor import Processed, Settings, process
from bouncer.store import inbox, open_db
from bouncer.store.inbox import StoredMessage

log = structlog.get_logger("bouncer.processor")
T = TypeVar("T")
BATCH = 32


class Processor:
    """Processes unprocessed messages whenever woken; all database writes run on its thread."""

    def __init__(
        self,
        db_path: str | Path,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db_path = db_path
        self._settings = settings or Settings()
        self._clock = clock
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="bouncer-process")
        self._db: Database | None = None
        self._wake = asyncio.Event()
        self.on_processed: Callable[[], None] | None = None  # called on the loop after a pass

    def wake(self, _message_id: int | None = None) -> None:
        """Ask for a processing pass (called after each stored message)."""
        self._wake.set()

    async def call(self, work: Callable[[Database], T]) -> T:
        """Run work(db) on the processor thread, serialised with processing."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: work(self._database()))

    async def run(self) -> None:
        """Process at start-up, then every time wake() is called, until cancelled."""
        self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            handled = await self.call(self.drain)
            if handled and self.on_processed is not None:
                self.on_processed()

    async def close(self) -> None:
        """Process what is left, then release the thread and the database."""
        await self.call(self.drain)
        await self.call(lambda db: db.close())
        self._executor.shutdown(wait=True)

    def _database(self) -> Database:
        """Open the processor's connection on first use."""
        if self._db is None:
            self._db = open_db(self._db_path)
        return self._db

    def drain(self, db: Database) -> int:
        """Process every unprocessed message; return how many were handled.

        Messages are processed in batches that commit together (one fsync per batch); each
        message still runs in its own savepoint, so it is written whole or not at all, and a
        failure marks only that message failed.
        """
        handled = 0
        stalled = False
        while not stalled and (batch := inbox.unprocessed(db, BATCH)):
            done: list[Processed] = []
            with db.atomic():
                for message in batch:
                    result = self._process_one(db, message)
                    if result is False:
                        stalled = True
                        break
                    if result is not True:
                        done.append(result)
            for processed in done:
                _log_processed(processed)
            handled += len(done)
        return handled

    def _process_one(self, db: Database, message: StoredMessage) -> Processed | bool:
        """Process one message, or mark it failed (True); False if even that failed."""
        try:
            return process(db, message, self._clock(), self._settings)
        except Exception as exc:  # noqa: BLE001 - a parsing bug must not stop the processor
            log.exception("message.process_failed", message=message.id)
            try:
                inbox.mark_failed(db, message.id, repr(exc), self._clock())
            except Exception:  # noqa: BLE001
                log.exception("message.mark_failed_failed", message=message.id)
                return False
            return True


def _log_processed(done: Processed) -> None:
    """Log a committed message's outcome and emit its events."""
    report = done.analysis.report
    log.info(
        "message.processed",
        message=done.message_id,
        kind=report.kind,
        recipients=len(report.entries),
        **({"duplicate_of": done.duplicate_of} if done.duplicate_of else {}),
    )
    for entry, verdict in done.analysis.verdicts:
        log.info(
            "bounce.recorded",
            message=done.message_id,
            recipient=entry.address,
            status=verdict.status,
            bounce_class=verdict.bounce_class,
            reason=verdict.reason,
        )
    notify.emit(done.events)
