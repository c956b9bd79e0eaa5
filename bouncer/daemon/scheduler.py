"""The scheduler: sweep open deferrals, suppression expiries and alert episodes now, or every N
seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlite_utils import Database

from bouncer.app import sweeping
from bouncer.clock import utcnow
from bouncer.core.alerts import AlertPolicy
from bouncer.core.tracker import Policy
from bouncer.daemon.health import Health
from bouncer.daemon.worker import Processor
from bouncer.store.retention import Retention, prune_once

log = structlog.get_logger("bouncer.scheduler")


class Scheduler:
    """Sweeps on the processor's thread every interval; events fire once, even after a crash."""

    def __init__(
        self,
        processor: Processor,
        policy: Policy,
        interval: timedelta,
        clock: Callable[[], datetime] = utcnow,
        on_events: Callable[[list[dict]], None] | None = None,
        retention: Retention | None = None,
        health: Health | None = None,
        alerts: AlertPolicy | None = None,
    ) -> None:
        """`retention`: what to prune after each sweep (None: keep everything); `alerts`: the
        alert settings open episodes are decided by (None: the defaults)."""
        self._health = health or Health()
        self._alerts = alerts or AlertPolicy()
        self._processor = processor
        self._policy = policy
        self._interval = max(interval.total_seconds(), 0.05)
        self._clock = clock
        self._on_events = on_events
        self._retention = retention

    async def sweep(self) -> list[dict]:
        """Run one sweep now, a short write transaction at a time (sweeping.sweep_bounded),
        and emit what fired."""
        now = self._clock()

        def step(db: Database) -> tuple[list[dict], bool]:
            return sweeping.sweep_bounded(db, now, self._policy, alert_policy=self._alerts)

        fired: list[dict] = []
        more = True
        while more:
            events, more = await self._processor.call(step)
            fired += events
            if events and self._on_events is not None:
                self._on_events(events)
        if self._retention is not None:
            await self._prune(self._retention)
        return fired

    async def _prune(self, retention: Retention) -> None:
        """Drop what is past its keep period (a batch of each kind per sweep)."""
        now = self._clock()
        pruned = await self._processor.call(lambda db: prune_once(db, now, retention))
        if pruned:
            log.info("store.pruned", **vars(pruned))

    async def run(self) -> None:
        """Sweep at start (catching up after downtime), then every interval, until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - a failed sweep is retried next interval
                self._health.failed("scheduler", "scheduler.sweep_failed", exc)
            else:
                self._health.beat("scheduler")
            await asyncio.sleep(self._interval)
