"""Read connections for the API, on threads of their own.

Requests read through `Reader.run(work)`: work(db) runs on one of a few threads, each with its
own read-only connection (`store.open_reader`). In WAL mode readers neither wait for the
daemon's writers nor hold them up, and the event loop (which also serves SMTP) never waits on
a query. A connection that fails is dropped and opened again on the next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bouncer.store import open_reader

T = TypeVar("T")


class Reader:
    """A small pool of threads, each reading through its own connection."""

    def __init__(self, db_path: str | Path, threads: int = 2) -> None:
        self._db_path = db_path
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="bouncer-http-read")
        self._local = threading.local()
        self._opened: list[Database] = []
        self._lock = threading.Lock()

    async def run(self, work: Callable[[Database], T]) -> T:
        """Run work(db) on a reader thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, work)

    def now(self, work: Callable[[Database], T]) -> T:
        """Run work(db) at once on the calling thread's own connection.

        For lookups on a primary key or a unique index (tens of microseconds): handing them
        to a thread costs more than they do. Anything that may read many rows uses `run`.
        """
        return self._run(work)

    def _run(self, work: Callable[[Database], T]) -> T:
        """Run work on this thread's connection (opened on first use, dropped on failure)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_reader(self._db_path)
            with self._lock:
                self._opened.append(db)
        try:
            return work(db)
        except Exception:
            self._local.db = None
            with contextlib.suppress(Exception):
                db.close()
            raise

    def close(self) -> None:
        """Wait for reads in progress, then close every connection."""
        self._executor.shutdown(wait=True)
        with self._lock:
            for db in self._opened:
                with contextlib.suppress(Exception):
                    db.close()
            self._opened.clear()
