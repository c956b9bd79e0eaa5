"""The HTTP API inside the daemon: its socket, the aiohttp runner, and what the handlers reach.

The socket is bound at start-up beside SMTP's, before the database is created or opened (a
port in use leaves no database behind); the application starts once the database is migrated.
Handlers read on reader threads of their own and write through the processor thread, so the
daemon keeps one writer for processing, the scheduler and the API. Readiness (/readyz) asks
for every loop healthy, SMTP accepting, intake without an unresolved failure, and a write lock
taken on the database within a few seconds.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bouncer.config import Config
from bouncer.console import attach as attach_console
from bouncer.daemon.health import Health
from bouncer.daemon.worker import Processor
from bouncer.http.app import Backend, make_app
from bouncer.http.metrics import Metrics
from bouncer.http.reader import Reader
from bouncer.store import maintenance

WRITABLE_WITHIN = 5.0  # seconds /readyz waits for the database's write lock
SHUTDOWN_GRACE = 5.0  # seconds requests in flight may take at shutdown


class ListenError(OSError):
    """The API's address cannot be bound; `address` is http.listen."""

    def __init__(self, error: OSError, address: str) -> None:
        super().__init__(error.errno, error.strerror or str(error))
        self.address = address


class ApiServer:
    """The API of one daemon: bind(), start(), stop()."""

    def __init__(self, config: Config, metrics: Metrics) -> None:
        self._config = config
        self._metrics = metrics
        self._sock: socket.socket | None = None
        self._runner: web.AppRunner | None = None
        self._reader: Reader | None = None

    def bind(self) -> None:
        """Bind and listen on http.listen (not yet serving); raise ListenError."""
        http = self._config.http
        host, port = http.listen_host, http.listen_port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._sock = socket.create_server((host, port), family=family, backlog=512)
        except OSError as exc:
            raise ListenError(exc, http.listen) from exc

    @property
    def port(self) -> int:
        """The port bound (the one chosen when http.listen asks for port 0)."""
        assert self._sock is not None, "bind() first"
        return self._sock.getsockname()[1]

    async def start(
        self,
        processor: Processor,
        health: Health,
        unready: Callable[[], list[str]],
        clock: Callable[[], datetime],
        spool: Callable[[], dict] | None = None,
    ) -> None:
        """Start serving: `unready()` lists what the daemon's own state makes it unready for;
        `spool()` (a node with a local spool) says what it holds (`Forwarder.state`)."""
        assert self._sock is not None, "bind() first"
        self._reader = Reader(self._config.db_path)

        async def not_ready() -> tuple[list[str], dict]:
            problems = health.problems() + unready()
            state = spool() if spool is not None else None
            if state is None or not state["store_error"]:  # not known to be away: ask it
                away = await _writable(processor, problems, spooling=state is not None)
                if state is not None:
                    state["store_error"] = away
            return problems, {} if state is None else {"spool": state}

        async def write(work):  # noqa: ANN001, ANN202
            """Run work on the processor thread, then let the journal and webhooks see its
            events at once (as after processing)."""
            result = await processor.call(work)
            if processor.on_processed is not None:
                processor.on_processed()
            return result

        backend = Backend(
            reader=self._reader,
            write=write,
            clock=clock,
            problems=health.problems,
            unready=not_ready,
            metrics=self._metrics,
            class_overrides=self._config.class_overrides,
        )
        app = make_app(self._config.http, backend)
        attach_console(app, self._config, backend)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=SHUTDOWN_GRACE,
        )
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (a few seconds), close the readers."""
        if self._runner is not None:
            await self._runner.cleanup()
        elif self._sock is not None:
            self._sock.close()
        if self._reader is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._reader.close)


async def _writable(processor: Processor, problems: list[str], *, spooling: bool) -> str | None:
    """Take the database's write lock (WRITABLE_WITHIN seconds at most); add what failed to
    `problems`, except (`spooling`: intake spools meanwhile) that the shared store cannot be
    reached: return that instead."""
    try:
        async with asyncio.timeout(WRITABLE_WITHIN):
            await processor.call(maintenance.writable)
    except TimeoutError:
        problems.append(f"database: no write lock within {WRITABLE_WITHIN:.0f} s")
    except Exception as exc:  # noqa: BLE001 - what failed is the answer
        if spooling:
            from bouncer.store.pg import describe, unreachable

            if unreachable(exc):
                return describe(exc)
        problems.append(f"database not writable: {exc}")
    return None
