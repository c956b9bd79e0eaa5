"""The processor: turns stored raw messages into records on one worker thread.

Messages are taken in batches: each is parsed and classified first, outside any database
transaction (so a huge or hostile message never holds the write lock), then the batch's results
are written in one short transaction (one fsync per batch), each message in its own savepoint,
so it is written whole or not at all and a failure marks only that message failed. A failure
of the batch itself (a full disk, a read-only file) drops the connection and is raised to the
supervisor, which starts the loop again with backoff; the messages stay unprocessed until then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import structlog
from sqlite_utils import Database

from bouncer.app.processing import Prepared, Processed, Settings, prepare, write
from bouncer.clock import from_iso, utcnow
from bouncer.daemon.health import Health
from bouncer.store import close_quietly, inbox, open_db
from bouncer.store.inbox import StoredMessage

if TYPE_CHECKING:
    from bouncer.http.metrics import Metrics

log = structlog.get_logger("bouncer.processor")
T = TypeVar("T")
BATCH = 64  # messages a write transaction holds while intake is quiet (fewer fsyncs)
# While intake is busy (at least BUSY_RATE messages/s arriving, over BUSY_FOR seconds), the
# senders go first: processing writes BUSY_BATCH messages a transaction (a short hold of the
# write lock, so the intake writers seldom wait behind it) and pauses BUSY_PAUSE seconds
# between batches, leaving the CPU to the SMTP sessions; the backlog is processed at full
# speed as soon as the flood eases. A bounce storm of a few hundred messages/s is processed
# as it comes. A flood that lasts never leaves processing more than BUSY_MAX_LAG behind (the
# oldest unprocessed message's age, seconds): past it, processing takes its full share of
# the CPU again, so suppressions and events lag a minute at most, not the whole flood.
BUSY_BATCH, BUSY_RATE, BUSY_FOR, BUSY_PAUSE = 8, 1000, 0.25, 0.05
BUSY_MAX_LAG = 60.0
# The processing connection's page cache: a batch's writes touch some forty pages a message,
# many at random places in indexes that grow with the history; with SQLite's default 2 MB a
# full batch evicts pages it needs again before its commit.
CACHE_KIB = 32 * 1024
LOOP = "processor"


class Processor:
    """Processes unprocessed messages whenever woken; all database writes run on its thread."""

    def __init__(
        self,
        db_path: str | Path,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
        health: Health | None = None,
        metrics: Metrics | None = None,
        *,
        checkpoint_on_commit: bool = True,
    ) -> None:
        """`checkpoint_on_commit`: as `bouncer.store.open_db` takes it."""
        self._db_path = db_path
        self._checkpoint_on_commit = checkpoint_on_commit
        self._metrics = metrics
        self._settings = settings or Settings()
        self._clock = clock
        self._health = health or Health()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="bouncer-process")
        self._db: Database | None = None
        self._wake = asyncio.Event()
        self.backlog = 0  # messages stored since the last pass finished (approximate)
        self._busy_at = float("-inf")  # time.monotonic() when intake was last seen busy
        self._window = (float("-inf"), 0)  # (start, messages stored since) over BUSY_FOR
        self._behind = False  # the last batch's oldest message was over BUSY_MAX_LAG old
        self.on_processed: Callable[[], None] | None = None  # called on the loop after a pass

    def wake(self, _message_id: int | None = None, *, count: int = 1) -> None:
        """Ask for a processing pass (called after each stored message)."""
        self._health.busy(LOOP)
        self._count_arrivals(count)
        self.backlog += 1
        self._wake.set()

    async def call(self, work: Callable[[Database], T]) -> T:
        """Run work(db) on the processor thread, serialised with processing.

        A failure drops the connection, so the next call opens a fresh one (a file that was
        read-only, or a disk that was full, works again without a restart).
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: self._guarded(work))

    async def run(self) -> None:
        """Process at start-up, then every time wake() is called, until cancelled (or until a
        batch fails: the supervisor starts it again)."""
        self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            handled = await self.call(self.drain)
            self.backlog = 0
            self._health.beat(LOOP)
            if handled and self.on_processed is not None:
                self.on_processed()

    async def close(self) -> None:
        """Process what is left, then release the thread and the database."""
        try:
            await self.call(self.drain)
        except Exception as exc:  # noqa: BLE001 - what is left is processed at the next start
            self._health.log_failure("processor.final_pass_failed", exc)
        await self.release()

    async def release(self) -> None:
        """Close the database connection (if open) and the worker thread."""
        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    def _guarded(self, work: Callable[[Database], T]) -> T:
        """Run work on the (possibly new) connection; drop the connection if it fails."""
        if self._db is None:
            self._db = open_db(
                self._db_path,
                checkpoint_on_commit=self._checkpoint_on_commit,
                take_turns=True,
                cache_kib=CACHE_KIB,
            )
        try:
            return work(self._db)
        except Exception:
            self._db = close_quietly(self._db)
            raise

    def drain(self, db: Database) -> int:
        """Process every unprocessed message; return how many were handled."""
        handled = 0
        while batch := inbox.unprocessed(db, self._batch_size()):
            prepared = [item for m in batch if (item := self._prepare_one(db, m)) is not None]
            try:
                done = self._write_batch(db, prepared, guarded=False)
            except _WriteFailed:  # rolled back: again, each message in a savepoint of its own
                done = self._write_batch(db, prepared, guarded=True)
            self._report(done)
            handled += len(batch)
            self._health.beat(LOOP)
            lag = self._clock() - from_iso(batch[0].received_at)
            self._behind = lag.total_seconds() > BUSY_MAX_LAG
            if len(batch) == BUSY_BATCH and self._batch_size() == BUSY_BATCH:
                time.sleep(BUSY_PAUSE)  # intake is busy: leave it the CPU a moment
        return handled

    def _write_batch(
        self, db: Database, prepared: list[Prepared], *, guarded: bool
    ) -> list[tuple[Processed, str]]:
        """Write a batch in one transaction; return what was written, with receipt times.

        Unguarded (the usual pass), messages are written one after the other and a message
        that fails to write raises _WriteFailed, rolling the whole batch back: no savepoint
        per message, whose statement journal costs a copy of every page a message changes
        (SQLite) or two round trips (PostgreSQL). Guarded, each message is written in a
        savepoint of its own, so a failing one is marked failed and the others are written.
        """
        done: list[tuple[Processed, str]] = []
        with db.atomic():
            # Claimed inside the write transaction: a message another processor (a worker
            # process still finishing) wrote meanwhile is skipped, never processed twice.
            claimed = inbox.still_new(db, [item.message.id for item in prepared])
            for item in prepared:
                if item.message.id not in claimed:
                    continue
                result = self._write_one(db, item) if guarded else self._write_bare(db, item)
                if result is not None:
                    done.append((result, item.message.received_at))
        return done

    def _write_bare(self, db: Database, item: Prepared) -> Processed:
        """Write one prepared message in the caller's transaction; raise _WriteFailed."""
        try:
            return write(db, item, self._clock(), self._settings)
        except Exception as exc:
            raise _WriteFailed(item.message.id) from exc

    def _report(self, done: list[tuple[Processed, str]]) -> None:
        """Log and count processed messages (with their receipt times, ISO 8601)."""
        for processed, received_at in done:
            _log_processed(processed)
            if self._metrics is not None:
                received = from_iso(received_at).timestamp()
                self._metrics.message_processed(processed.message_id, _counted(processed), received)

    def _batch_size(self) -> int:
        """Return BUSY_BATCH while messages keep arriving (woken within BUSY_FOR) and
        processing is less than BUSY_MAX_LAG behind, else BATCH."""
        busy = time.monotonic() - self._busy_at < BUSY_FOR and not self._behind
        return BUSY_BATCH if busy else BATCH

    def _count_arrivals(self, count: int) -> None:
        """Count stored messages; note intake busy once BUSY_RATE a second arrive."""
        now = time.monotonic()
        start, arrived = self._window
        if now - start > BUSY_FOR:
            start, arrived = now, 0
        arrived += count
        self._window = (start, arrived)
        if arrived >= BUSY_RATE * BUSY_FOR:
            self._busy_at = now

    def _prepare_one(self, db: Database, message: StoredMessage) -> Prepared | None:
        """Parse and classify one message; mark it failed (None) if that raises."""
        try:
            return prepare(message, self._clock(), self._settings)
        except Exception as exc:  # noqa: BLE001 - a parsing bug must not stop the processor
            log.exception("message.process_failed", message=message.id)
            inbox.mark_failed(db, message.id, repr(exc), self._clock())
            if self._metrics is not None:
                self._metrics.message_failed(message.id, "process")
            return None

    def _write_one(self, db: Database, item: Prepared) -> Processed | None:
        """Write one prepared message in a savepoint; mark it failed (None) if that raises."""
        try:
            with db.atomic():
                return write(db, item, self._clock(), self._settings)
        except Exception as exc:  # noqa: BLE001 - one bad message must not block the rest
            log.exception("message.process_failed", message=item.message.id)
            inbox.mark_failed(db, item.message.id, repr(exc), self._clock())
            if self._metrics is not None:
                self._metrics.message_failed(item.message.id, "process")
            return None


class _WriteFailed(Exception):
    """A message of an unguarded batch failed to write (its batch is written again, guarded)."""


def _counted(done: Processed) -> list[tuple[str, str]]:
    """Return (class, reason) of each record a processed message wrote (none for a copy of a
    report already stored: it adds no record)."""
    if done.duplicate_of is not None:
        return []
    return [(verdict.bounce_class, verdict.reason) for _, verdict in done.analysis.verdicts]


def _log_processed(done: Processed) -> None:
    """Log a committed message's outcome (its events reach the log through the journal)."""
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
