"""The spool's forwarder: moves messages a node spooled while PostgreSQL was away (bouncer.daemon
.intake, bouncer.store.spool) into the shared store once it is back.

One forwarder runs in the daemon's main process, a supervised loop on a thread of its own,
whatever the number of intake processes: they all write one spool file (SQLite: they queue on
its writers' lock), and one reader of it never races another for the same rows. The main
process also answers /readyz and /metrics, which show what it knows: messages waiting
(`bouncer_spooled_messages`) and why the shared store cannot take them.

Every POLL_SECONDS it counts the spool's messages; while there are some, it connects to the
shared store (a short connect timeout) and forwards them in batches of BATCH: insert
(`ON CONFLICT (spool_key) DO NOTHING`), commit, delete from the spool, then wake processing.
It logs `spool.started` once when messages appear in the spool and `spool.drained` once when
the last has been forwarded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog

from bouncer.config import Config
from bouncer.daemon.health import Health
from bouncer.http.metrics import Metrics
from bouncer.store import close_quietly, open_db, spool
from bouncer.store.pg import STANDBY_CONNECT_SECONDS, describe, unreachable
from bouncer.store.retention import give_back_pages

log = structlog.get_logger("bouncer.spool")
LOOP = "spool"
POLL_SECONDS = 1.0
BATCH = 200


def for_node(
    config: Config, health: Health, metrics: Metrics, wake: Callable[[int], None]
) -> Forwarder:
    """Return the forwarder of a node on PostgreSQL (`wake(n)`: n messages reached the store),
    and let `health` count the store's being away as waiting (`Health.waits_for`)."""
    health.waits_for = unreachable
    return Forwarder(config.spool_path, config.db_path, metrics, wake)


def store_away(config: Config, error: BaseException) -> bool:
    """Say whether a node may start without its store: PostgreSQL cannot be reached (the
    spool takes the bounces; whoever connects first once it is back creates or migrates it).
    Logs `service.store_unreachable` when so."""
    if not unreachable(error):
        return False
    log.warning("service.store_unreachable", error=str(error), spool=str(config.spool_path))
    return True


class Forwarder:
    """Forwards a node's spooled messages to the shared store; `waiting` (messages in the
    spool, as last counted) and `store_error` (why the shared store could not take them,
    None once it did) are read by /readyz."""

    def __init__(
        self,
        spool_path: str | Path,
        db_path: str,
        metrics: Metrics | None = None,
        on_forwarded: Callable[[int], None] | None = None,
    ) -> None:
        """`on_forwarded(n)` is called on the loop after n messages reached the store."""
        self._spool_path = spool_path
        self._db_path = db_path
        self._metrics = metrics
        self._on_forwarded = on_forwarded
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="bouncer-spool")
        self._spool = None
        self._db = None
        self.waiting = 0
        self.store_error: str | None = None
        self._started: tuple[float, int] | None = None  # (monotonic, forwarded since)

    def prepare(self) -> None:
        """Create (or migrate) the spool file now, so a bad spool path stops the start.
        Raises StoreError."""
        open_db(self._spool_path).close()

    async def run(self) -> None:
        """Forward until cancelled (a failure other than the store being away is raised to
        the supervisor)."""
        loop = asyncio.get_running_loop()
        while True:
            moved = await loop.run_in_executor(self._executor, self.forward_once)
            if moved and self._on_forwarded is not None:
                self._on_forwarded(moved)
            if not moved:
                await asyncio.sleep(POLL_SECONDS)

    def forward_once(self) -> int:
        """Count the spool; forward one batch if the shared store takes it. Return how many
        messages were forwarded (0 when the spool is empty or the store away)."""
        try:
            self._spool = self._spool or open_db(self._spool_path)
            self._count(spool.waiting(self._spool))
            if not self.waiting:
                give_back_pages(self._spool)  # after an outage: the file shrinks, a batch a pass
                return 0
            items = spool.take(self._spool, BATCH)
        except BaseException:
            self._spool = close_quietly(self._spool)
            raise
        try:
            self._db = self._db or open_db(self._db_path, connect_timeout=STANDBY_CONNECT_SECONDS)
            spool.forward(self._db, items)
        except Exception as exc:
            self._db = close_quietly(self._db)
            if not unreachable(exc):
                raise
            self.store_error = describe(exc)
            return 0
        self.store_error = None
        spool.remove(self._spool, items)
        self._forwarded(len(items))
        return len(items)

    def _count(self, waiting: int) -> None:
        """Note how many messages wait; log when spooling starts or the spool is drained."""
        self.waiting = waiting
        if self._metrics is not None:
            self._metrics.spool_waiting.set(waiting)
        if waiting and self._started is None:
            self._started = (time.monotonic(), 0)
            log.warning("spool.started", waiting=waiting, spool=str(self._spool_path))
        elif not waiting and self._started is not None:
            since, forwarded = self._started
            self._started = None
            self.store_error = None
            self._db = close_quietly(self._db)  # idle again: intake has its own connection
            log.info("spool.drained", forwarded=forwarded, seconds=round(time.monotonic() - since))

    def _forwarded(self, count: int) -> None:
        """Count messages forwarded since spooling started."""
        self.waiting = max(0, self.waiting - count)
        if self._metrics is not None:
            self._metrics.spool_waiting.set(self.waiting)
        if self._started is not None:
            self._started = (self._started[0], self._started[1] + count)

    def state(self) -> dict:
        """What /readyz shows: {"messages": waiting, "store_error": text or None}."""
        return {"messages": self.waiting, "store_error": self.store_error}

    async def close(self) -> None:
        """Close the connections and the thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        self._spool = close_quietly(self._spool)
        self._db = close_quietly(self._db)
