"""Durable intake: a writer thread that commits received messages in group transactions.

SMTP sessions hand a message over and await its id; the thread commits whatever is queued in one
transaction (no waiting window), then resolves each waiter (one wake-up of the event loop per
batch). A failure resolves every waiter of the batch with the exception, so the session answers
451 and the sender retries. Its transactions queue with the daemon's other writers (processing,
other intake processes) on the writers' lock (`open_db(take_turns=True)`), so none of them
sleeps in SQLite's busy handler while the database is free.

On PostgreSQL with a local spool (`[store] spool`, bouncer.store.spool), a batch the shared
store cannot take because the server cannot be reached (`pg.unreachable`: not a constraint
or another error of the statement) is committed to the spool instead, and the senders get
their 250 all the same; only when the spool cannot store it either do they get a 451. Every
message written on PostgreSQL carries its spool key, given before the first attempt, so a
batch whose commit was in doubt (the connection lost during COMMIT) and that was spooled too
is forwarded as a no-op. After a failure the batches go straight to the spool and the shared
store is tried again at most every RETRY_SECONDS, with a short connect timeout
(`pg.STANDBY_CONNECT_SECONDS`), so a server that does not answer holds intake back that long
at most once in a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from dataclasses import replace
from pathlib import Path

from bouncer.store import StoreError, close_quietly, inbox, locate, open_db
from bouncer.store.dialect import POSTGRESQL
from bouncer.store.inbox import Incoming

MAX_BATCH = 64
RETRY_SECONDS = 1.0  # while the shared store is away, it is tried again this often at most
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
    """Commits raw messages to the store from one thread; `store()` returns after the commit.

    `spool`: the local spool's file, used when the store is PostgreSQL (ignored on SQLite).
    """

    def __init__(
        self,
        db_path: str | Path,
        *,
        checkpoint_on_commit: bool = True,
        spool: str | Path | None = None,
    ) -> None:
        """`checkpoint_on_commit`: as `bouncer.store.open_db` takes it."""
        self._db_path = db_path
        self._checkpoint_on_commit = checkpoint_on_commit
        self._spool_path = spool if locate(db_path)[0] == POSTGRESQL else None
        self._connect_timeout = None  # the store's own (bouncer.store.pg.CONNECT_SECONDS)
        if self._spool_path is not None:  # the spool stands by: try the store briefly
            from bouncer.store.pg import STANDBY_CONNECT_SECONDS

            self._connect_timeout = STANDBY_CONNECT_SECONDS
        self.last_error: str | None = None  # the last failure to store, until a success
        self.spooling: str | None = None  # why batches go to the spool now, else None
        self._retry_at = 0.0  # time.monotonic() when the shared store may be tried again
        self._db = None
        self._spool = None
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

    async def store(self, item: Incoming) -> int | str:
        """Commit one message; return its id in the store, or its spool key (text) when it
        went to the spool; raise if it could not be stored."""
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
        stopping = False
        while not stopping:
            batch, stopping = self._next_batch()
            if not batch:
                continue
            try:
                results = self._commit([request[0] for request in batch])
            except Exception as exc:  # noqa: BLE001 - every failure must reach the waiters
                self.last_error = repr(exc)
                _report(batch, [None] * len(batch), exc)
                continue
            self.last_error = None
            _report(batch, results, None)
        for db in (self._db, self._spool):
            if db is not None:
                db.close()

    def _commit(self, items: list[Incoming]) -> list[int] | list[str]:
        """Commit a batch to the store, or (PostgreSQL away) to the spool; return the ids or
        the spool keys. Raises what the store (or the spool) raised."""
        if self._spool_path is None:
            return self._to_store(items)
        from bouncer.store.pg import describe, unreachable
        from bouncer.store.spool import new_key

        keyed = [replace(item, spool_key=new_key()) for item in items]
        if time.monotonic() >= self._retry_at:
            try:
                ids = self._to_store(keyed)
            except Exception as exc:
                if not unreachable(exc):
                    raise
                self._retry_at = time.monotonic() + RETRY_SECONDS
                self.spooling = describe(exc)
            else:
                self.spooling = None
                return ids
        self._to_spool(keyed)
        return [item.spool_key or "" for item in keyed]

    def _to_store(self, items: list[Incoming]) -> list[int]:
        """Insert a batch into the store; a failure drops the connection (a fresh one next
        time: the file may be writable again, the server back)."""
        try:
            self._db = self._db or open_db(
                self._db_path,
                checkpoint_on_commit=self._checkpoint_on_commit,
                take_turns=True,
                connect_timeout=self._connect_timeout,
            )
            return inbox.insert_batch(self._db, items)
        except BaseException:
            self._db = close_quietly(self._db)
            raise

    def _to_spool(self, items: list[Incoming]) -> None:
        """Insert a batch into the spool (its file created at the first use)."""
        try:
            self._spool = self._spool or open_db(self._spool_path, take_turns=True)
            inbox.insert_batch(self._spool, items)
        except Exception as exc:
            self._spool = close_quietly(self._spool)
            raise StoreError(f"store away ({self.spooling}); spool: {exc}", "open") from exc
