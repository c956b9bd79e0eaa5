"""Run the daemon on one asyncio loop: bind SMTP, start the pieces `bouncer.daemon.parts`
assembles (intake, processor, scheduler, webhook outbox, journal), supervise them, answer
health and signals, and stop them in order.

Start-up binds the listening socket before it creates or opens the database, so a port in use
leaves no empty database behind; only then does the server start accepting. Every long-running
loop runs under `health.supervise` (restarted with backoff when it fails) and reports to one
`Health`; the systemd watchdog is pinged only while all of them are healthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from datetime import datetime

import structlog

from bouncer.clock import utcnow
from bouncer.config import Config
from bouncer.daemon.health import supervise
from bouncer.daemon.parts import Parts, build
from bouncer.daemon.sdnotify import sd_notify, watchdog
from bouncer.daemon.smtp import BounceHandler, verp_refusal
from bouncer.daemon.smtp_session import (
    BounceSMTP,
    SessionGate,
    server_tls,
    session_options,
)
from bouncer.store import StoreError, open_db, shown_location

__all__ = ["sd_notify", "serve"]
log = structlog.get_logger("bouncer.service")


async def _bind(config: Config, handler: BounceHandler, gate: SessionGate):  # noqa: ANN202
    """Bind the configured address with aiosmtpd on this loop (not yet accepting).

    Raises OSError when the address cannot be bound (in use, no permission, not on this host),
    ConfigError when the STARTTLS certificate or key cannot be loaded.
    """
    loop = asyncio.get_running_loop()
    smtp = config.smtp
    tls = server_tls(smtp.tls_cert, smtp.tls_key)

    def factory() -> BounceSMTP:
        return BounceSMTP(handler, gate, **session_options(smtp, tls))

    return await loop.create_server(
        factory, config.listen_host, config.listen_port, start_serving=False
    )


def _status(parts: Parts) -> Callable[[], str]:
    """Return the STATUS= line maker: backlog, sessions, and the last unresolved error."""

    def status() -> str:
        pool = parts.pool
        error = parts.writer.last_error or (pool and pool.last_error()) or parts.health.last_error()
        backlog = pool.backlog if pool else parts.processor.backlog
        line = f"sessions {len(parts.gate.sessions)}, processing backlog {backlog}"
        return f"{line}; last error: {error}" if error else line

    return status


async def _start_tasks(parts: Parts) -> list[asyncio.Task]:
    """Start the supervised loops and the watchdog."""
    loops: dict[str, Callable[[], object]] = {
        "processor": parts.processor.run,
        "scheduler": parts.scheduler.run,
        "journal": parts.journal.run,
        "checkpointer": parts.checkpointer.run,
    }
    if parts.outbox is not None:
        with contextlib.suppress(Exception):  # the outbox registers on its first pass too
            await parts.outbox.register()
        loops["outbox"] = parts.outbox.run
    if parts.pool is not None:  # processing has a process of its own
        del loops["processor"]
        loops.update(parts.pool.loops())
    if parts.forwarder is not None:
        from bouncer.daemon.spool import LOOP

        loops[LOOP] = parts.forwarder.run
    tasks = [
        asyncio.create_task(supervise(name, run, parts.health), name=name)
        for name, run in loops.items()
    ]
    tasks.append(asyncio.create_task(watchdog(parts.health, _status(parts)), name="watchdog"))
    return tasks


async def _shutdown(
    parts: Parts, server: asyncio.AbstractServer, tasks: list[asyncio.Task], grace: float
) -> None:
    """Stop accepting, let transactions in flight finish, then stop the background work."""
    server.close()
    await (parts.pool.stop_intake(grace) if parts.pool else parts.gate.drain(grace))
    if parts.api is not None:
        await parts.api.stop()
    for task in tasks:
        task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=10)  # bounded: shutdown must finish
    for task in stuck:
        log.error("service.task_stuck", task=task.get_name())
    parts.writer.stop()
    if parts.outbox is not None:
        await parts.outbox.close()
    await parts.processor.close()
    await parts.checkpointer.close()
    if parts.forwarder is not None:
        await parts.forwarder.close()


def _unready(parts: Parts, server: asyncio.AbstractServer) -> Callable[[], list[str]]:
    """Return what makes the daemon unready beside its loops: SMTP, intake."""

    def problems() -> list[str]:
        found = [] if server.is_serving() else ["SMTP is not accepting connections"]
        error = parts.writer.last_error or (parts.pool and parts.pool.last_error())
        if error:
            found.append(f"intake: {error}")
        return found

    return problems


def _on_signals(stop: asyncio.Event) -> None:
    """Set stop on SIGTERM/SIGINT (where this loop can take signals)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)


def _migrate(config: Config, *, spooling: bool) -> None:
    """Open (create, migrate) the store before traffic; raise StoreError, unless a node with
    a local spool cannot reach PostgreSQL (`bouncer.daemon.spool.store_away`)."""
    try:
        open_db(config.db_path, identity=config.identity).close()
    except StoreError as exc:
        from bouncer.daemon.spool import store_away

        if not (spooling and store_away(config, exc)):
            raise


async def serve(
    config: Config,
    *,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
    http_ready: Callable[[int], None] | None = None,
) -> None:
    """Run the daemon until stop is set or SIGTERM/SIGINT; call ready(port) once listening
    (SMTP's port), and before that http_ready(port) with the API's (when it is enabled).

    `clock` (aware UTC) stamps receipts and drives processing, timers and webhook retries.
    Raises OSError when an address cannot be bound (before any database file is created;
    `bouncer.daemon.api.ListenError` for the API's), StoreError when the database cannot be
    used (or keeps another address rule).
    """
    if clock is not utcnow and config.smtp.intake_processes() > 1:
        raise ValueError("a clock can be given only to one process: set smtp.processes = 1")
    stop = stop or asyncio.Event()
    parts = build(config, clock)  # no database file is touched before the first message
    handler = BounceHandler(
        config.smtp.domains,
        parts.writer.store,
        max_recipients=config.smtp.max_recipients,
        on_stored=parts.processor.wake,
        clock=clock,
        refuse=verp_refusal(config, clock),
        metrics=parts.metrics,
    )
    try:
        server = await (parts.pool.bind() if parts.pool else _bind(config, handler, parts.gate))
        try:
            if parts.api is not None:
                parts.api.bind()
            _migrate(config, spooling=parts.forwarder is not None)
            if parts.forwarder is not None:
                parts.forwarder.prepare()  # a spool that cannot be created stops the start
        except BaseException:
            server.close()
            if parts.api is not None:
                await parts.api.stop()
            raise
    except BaseException:
        parts.writer.stop()
        await parts.processor.release()
        await parts.checkpointer.close()
        if parts.forwarder is not None:
            await parts.forwarder.close()
        raise
    await _run(config, parts, server, stop, (ready, http_ready), clock)


async def _run(
    config: Config,
    parts: Parts,
    server: asyncio.AbstractServer,
    stop: asyncio.Event,
    ready: tuple[Callable[[int], None] | None, Callable[[int], None] | None],
    clock: Callable[[], datetime],
) -> None:
    """Serve until stopped, then shut down in order."""
    port = server.sockets[0].getsockname()[1]
    _on_signals(stop)
    tasks = await _start_tasks(parts)
    await server.start_serving()
    http = None
    if parts.api is not None:
        spool = parts.forwarder.state if parts.forwarder is not None else None
        await parts.api.start(parts.processor, parts.health, _unready(parts, server), clock, spool)
        http = f"{config.http.listen_host}:{parts.api.port}"
        if ready[1] is not None:
            ready[1](parts.api.port)
    log.info(
        "service.started",
        listen=f"{config.listen_host}:{port}",
        http=http,
        db=shown_location(config.db_path),
        domains=list(config.smtp.domains),
        webhooks=len(config.webhooks),
    )
    sd_notify("READY=1")
    if ready[0] is not None:
        ready[0](port)
    await stop.wait()
    sd_notify("STOPPING=1")
    log.info("service.stopping")
    await _shutdown(parts, server, tasks, config.smtp.shutdown_grace)
    log.info("service.stopped")
