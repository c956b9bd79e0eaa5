"""Durable intake: a writer thread that commits received messages in group transactions.

SMTP sessions hand a message over and await its id; the thread commits whatever is queued in one
transaction (no waiting window), then resolves each waiter (one wake-up of the event loop per
batch). A failure resolves every waiter of the batch with the exception, so the session answers
451 and the sender retries. Its transactions queue with the daemon's other writers (processing,
other intake processes) on the writers' lock (`open_db(take_turns=True)`), so none of them
sleeps in SQLite's busy handler while the database is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from pathlib import Path

from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming

MAX_BATCH = 64
_Request = tuple[Incoming, asyncio.Future, asyncio.AbstractEventLoop]


def _settle(outcomes: list[tuple[asyncio.Future, object, BaseException | None]]) -> None:
    """Resolve each waiter with its result or error, unless its session has gone away."""
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


def _report(batch: list[_Request], results: list[object], error: BaseException | None) -> None:
    """Hand a batch's outcomes to the waiters' loops: one wake-up per loop, not per message."""
    by_loop: dict[asyncio.AbstractEventLoop, list] = {}
    for (_, future, loop), result in zip(batch, results, strict=True):
        by_loop.setdefault(loop, []).append((future, result, error))
    for loop, outcomes in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, outcomes)


class InboxWriter:
    """Commits raw messages to the store from one thread; `store()` returns after the commit."""

    def __init__(self, db_path: str | Path, *, checkpoint_on_commit: bool = True) -> None:
        """`checkpoint_on_commit`: as `bouncer.store.open_db` takes it."""
        self._db_path = db_path
        self._checkpoint_on_commit = checkpoint_on_commit
        self.last_error: str | None = None  # the last failure to store, until a success
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="bouncer-intake", daemon=True)

    def start(self) -> InboxWriter:
        """Start the writer thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Commit what is queued, then end the writer thread."""
        self._queue.put(None)
        self._thread.join()

    async def store(self, item: Incoming) -> int:
        """Commit one message and return its id; raise if it could not be stored."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((item, future, loop))
        return await future

    def _next_batch(self) -> tuple[list[_Request], bool]:
        """Block for one request, then take whatever else is queued; say if stop was asked."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch, stopping = [first], False
        while len(batch) < MAX_BATCH:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                break
            if request is None:
                stopping = True
                break
            batch.append(request)
        return batch, stopping

    def _run(self) -> None:
        """Commit batches until stopped."""
        db = None
        stopping = False
        while not stopping:
            batch, stopping = self._next_batch()
            if not batch:
                continue
            try:
                db = db or open_db(
                    self._db_path, checkpoint_on_commit=self._checkpoint_on_commit, take_turns=True
                )
                ids = inbox.insert_batch(db, [request[0] for request in batch])
            except Exception as exc:  # noqa: BLE001 - every failure must reach the waiters
                self.last_error = repr(exc)
                if db is not None:  # a fresh connection next time: the file may be writable again
                    with contextlib.suppress(Exception):
                        db.close()
                    db = None
                _report(batch, [None] * len(batch), exc)
                continue
            self.last_error = None
            _report(batch, list(ids), None)
        if db is not None:
            db.close()
