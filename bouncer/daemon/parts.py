"""Assemble the daemon's running pieces from a configuration: intake writer, processor,
scheduler, journal, outbox (with webhooks), session gate, health, metrics, API server,
checkpointer, the intake/processing process pool (smtp.processes > 1) and the local spool's
forwarder (a PostgreSQL store). `bouncer.daemon.service` starts, supervises and stops them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bouncer.app.processing import Settings
from bouncer.config import Config
from bouncer.daemon.api import ApiServer
from bouncer.daemon.checkpointer import Checkpointer
from bouncer.daemon.health import Health
from bouncer.daemon.intake import InboxWriter
from bouncer.daemon.journal import Journal
from bouncer.daemon.scheduler import Scheduler
from bouncer.daemon.smtp_session import SessionGate, SessionLimits
from bouncer.daemon.worker import Processor
from bouncer.http.metrics import Metrics
from bouncer.store import locate
from bouncer.store.dialect import POSTGRESQL
from bouncer.store.retention import Retention

if TYPE_CHECKING:
    from bouncer.daemon.delivery import Outbox
    from bouncer.daemon.pool import Pool
    from bouncer.daemon.spool import Forwarder


@dataclass
class Parts:
    """The running pieces of the daemon, in the order they are stopped."""

    writer: InboxWriter
    processor: Processor
    scheduler: Scheduler
    journal: Journal
    outbox: Outbox | None
    gate: SessionGate
    health: Health
    metrics: Metrics
    api: ApiServer | None
    checkpointer: Checkpointer
    pool: Pool | None = None  # intake and processing in worker processes (smtp.processes > 1)
    forwarder: Forwarder | None = None  # the local spool's (a PostgreSQL store)


def build(config: Config, clock: Callable[[], datetime]) -> Parts:
    """Create the intake writer, processor, scheduler, journal and (with webhooks) outbox."""
    health = Health()
    metrics = Metrics()
    # The writers leave the write-ahead log to the checkpointer (see bouncer.daemon.checkpointer)
    writer = InboxWriter(
        config.db_path, checkpoint_on_commit=False, spool=config.spool_path
    ).start()
    settings = Settings.from_config(config)
    processor = Processor(
        config.db_path, settings, clock, health, metrics, checkpoint_on_commit=False
    )
    journal = Journal(processor.call, health, on_rows=metrics.events_committed)
    outbox = None
    if config.webhooks:
        from bouncer.daemon.delivery import Outbox  # aiohttp only when webhooks are configured

        outbox = Outbox(processor, config.webhooks, clock=clock, health=health)

    def committed(*_: object) -> None:
        journal.wake()
        if outbox is not None:
            outbox.wake()

    processor.on_processed = committed
    scheduler = Scheduler(
        processor,
        settings.policy,
        config.tracker.sweep_interval,
        clock=clock,
        on_events=committed,
        retention=Retention(config.keep_raw, config.keep_records, config.keep_events),
        health=health,
        alerts=settings.alerts,
    )
    pool = None
    if config.smtp.intake_processes() > 1:
        from bouncer.daemon.pool import Pool

        pool = Pool(config, health, committed, metrics)
    gate = pool.gate if pool else SessionGate(SessionLimits.from_config(config.smtp))
    gate.on_reply = metrics.reply
    api = ApiServer(config, metrics) if config.http.enabled else None
    checkpointer = Checkpointer(config.db_path, health)
    forwarder = None
    if locate(config.db_path)[0] == POSTGRESQL:  # a local spool takes mail while it is away
        from bouncer.daemon.spool import for_node

        wake = pool.wake_processing if pool else lambda n: processor.wake(count=n)
        forwarder = for_node(config, health, metrics, wake)
    return Parts(
        writer,
        processor,
        scheduler,
        journal,
        outbox,
        gate,
        health,
        metrics,
        api,
        checkpointer,
        pool,
        forwarder,
    )
