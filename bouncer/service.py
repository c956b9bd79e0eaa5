"""Wire the daemon together on one asyncio loop: SMTP server, intake, processor; signals."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from bouncer.clock import utcnow
from bouncer.config import Config
from bouncer.intake import InboxWriter
from bouncer.processor import Settings
from bouncer.scheduler import Scheduler
from bouncer.smtp import BounceHandler, BounceSMTP, SessionGate
from bouncer.store import open_db
from bouncer.worker import Processor

if TYPE_CHECKING:
    from bouncer.outbox import Outbox

log = structlog.get_logger("bouncer.service")


def sd_notify(state: str) -> None:
    """Send a state line to systemd when run under Type=notify (no-op otherwise)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(state.encode(), address)


async def _watchdog() -> None:
    """Ping systemd's watchdog at half its interval while the loop is alive (WatchdogSec=)."""
    interval = int(os.environ.get("WATCHDOG_USEC", "0")) / 2_000_000
    if interval <= 0 or os.environ.get("WATCHDOG_PID", str(os.getpid())) != str(os.getpid()):
        return
    while True:
        sd_notify("WATCHDOG=1")
        await asyncio.sleep(interval)


async def _drain_sessions(gate: SessionGate, grace: float) -> None:
    """Close idle sessions and wait (up to grace seconds) for in-flight transactions to end."""
    deadline = asyncio.get_running_loop().time() + grace
    while gate.sessions and asyncio.get_running_loop().time() < deadline:
        gate.close_idle()
        await asyncio.sleep(0.05)
    for smtp in list(gate.sessions):
        if smtp.transport is not None:
            smtp.transport.close()


async def _start_server(config: Config, handler: BounceHandler, gate: SessionGate):  # noqa: ANN202
    """Listen on the configured address with aiosmtpd on this loop."""
    loop = asyncio.get_running_loop()
    smtp = config.smtp

    def factory() -> BounceSMTP:
        return BounceSMTP(
            handler,
            gate,
            hostname=smtp.hostname,
            data_size_limit=smtp.max_message_size,
            enable_SMTPUTF8=True,
            timeout=smtp.timeout,
        )

    return await loop.create_server(factory, config.listen_host, config.listen_port)


@dataclass
class _Parts:
    """The running pieces of the daemon, in the order they are stopped."""

    writer: InboxWriter
    processor: Processor
    scheduler: Scheduler
    outbox: Outbox | None
    gate: SessionGate


def _build(config: Config, clock: Callable[[], datetime]) -> _Parts:
    """Create the intake writer, processor, scheduler and (with webhooks) the outbox."""
    writer = InboxWriter(config.db_path).start()
    settings = Settings.from_config(config)
    processor = Processor(config.db_path, settings, clock)
    outbox = None
    if config.webhooks:
        from bouncer.outbox import Outbox  # aiohttp only when webhooks are configured

        outbox = Outbox(processor, config.webhooks, clock=clock)
        processor.on_processed = outbox.wake
    on_events = (lambda _fired: outbox.wake()) if outbox else None
    scheduler = Scheduler(
        processor,
        settings.policy,
        config.tracker.sweep_interval,
        clock=clock,
        on_events=on_events,
        keep_raw=config.keep_raw,
    )
    return _Parts(writer, processor, scheduler, outbox, SessionGate(config.smtp.max_connections))


async def _start_tasks(parts: _Parts) -> list[asyncio.Task]:
    """Start processing, sweeping and (after registering webhooks) delivering."""
    if parts.outbox is not None:
        await parts.outbox.register()
    tasks = [
        asyncio.create_task(_watchdog(), name="watchdog"),
        asyncio.create_task(parts.processor.run(), name="processor"),
        asyncio.create_task(parts.scheduler.run(), name="scheduler"),
    ]
    if parts.outbox is not None:
        tasks.append(asyncio.create_task(parts.outbox.run(), name="outbox"))
    return tasks


async def _shutdown(
    parts: _Parts, server: asyncio.AbstractServer, tasks: list[asyncio.Task], grace: float
) -> None:
    """Stop accepting, let transactions in flight finish, then stop the background work."""
    server.close()
    await _drain_sessions(parts.gate, grace)
    for task in tasks:
        task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=10)  # bounded: shutdown must finish
    for task in stuck:
        log.error("service.task_stuck", task=task.get_name())
    parts.writer.stop()
    if parts.outbox is not None:
        await parts.outbox.close()
    await parts.processor.close()


def _on_signals(stop: asyncio.Event) -> None:
    """Set stop on SIGTERM/SIGINT (where this loop can take signals)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)


async def serve(
    config: Config,
    *,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Run the daemon until stop is set or SIGTERM/SIGINT; call ready(port) once listening.

    `clock` (aware UTC) stamps receipts and drives processing, timers and webhook retries.
    Raises StoreError when the database cannot be used (or keeps another address rule).
    """
    open_db(config.db_path, identity=config.identity).close()  # migrate before any traffic
    stop = stop or asyncio.Event()
    parts = _build(config, clock)
    handler = BounceHandler(
        config.smtp.domains,
        parts.writer.store,
        max_recipients=config.smtp.max_recipients,
        on_stored=parts.processor.wake,
        clock=clock,
    )
    server = await _start_server(config, handler, parts.gate)
    port = server.sockets[0].getsockname()[1]
    _on_signals(stop)
    tasks = await _start_tasks(parts)
    log.info(
        "service.started",
        listen=f"{config.listen_host}:{port}",
        db=str(config.db_path),
        domains=list(config.smtp.domains),
        webhooks=len(config.webhooks),
    )
    sd_notify("READY=1")
    if ready is not None:
        ready(port)
    await stop.wait()
    sd_notify("STOPPING=1")
    log.info("service.stopping")
    await _shutdown(parts, server, tasks, config.smtp.shutdown_grace)
    log.info("service.stopped")
