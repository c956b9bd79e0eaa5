"""Several processes for one daemon (smtp.processes above 1): SMTP intake on every CPU.

One Python process serves SMTP sessions on one core at most (aiosmtpd's work per line and
per command holds the interpreter), so the main process accepts the connections and hands
each (the socket itself, over a control channel: bouncer.daemon.channel) to the intake process
with the fewest sessions; each intake process commits its messages itself (its own
group-commit writer on the same WAL database) before its 250. Processing runs in one process
of its own. The scheduler, journal, webhook outbox and checkpointer stay in the main process,
which alone speaks to systemd.

The main process counts every session (smtp.max_connections, max_connections_per_ip hold for
all intake processes together) and refuses over a limit with the same 421 as one process
does. Each worker process runs under `health.supervise`: one that exits is started again with
backoff, its sessions released; one silent for `Health.stuck_after` makes the daemon
unhealthy (no watchdog ping). Every message is processed once: only the processing process
processes while the daemon runs, and a processor claims its batch inside its write
transaction (bouncer.daemon.worker), so one still finishing cannot process a message twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import pickle
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import partial

import structlog

from bouncer.config import Config
from bouncer.daemon.channel import Channel, pair
from bouncer.daemon.child import WorkerSpec
from bouncer.daemon.health import Health
from bouncer.daemon.listener import Listener, bind_sockets
from bouncer.daemon.smtp_session import SessionGate, SessionLimits, client_ip, server_tls
from bouncer.http.metrics import Metrics
from bouncer.store import locate
from bouncer.store.dialect import SQLITE

log = structlog.get_logger("bouncer.service")
REFUSED = "421 4.3.2 Service not available, try again later"
STOP_TIMEOUT = 8.0  # seconds a processing process may take to finish its batch
STOPPED_GRACE = 2.0  # seconds a worker that stopped cleanly waits for the daemon's own stop
# A connection over a limit is looked at again this often, this many times, before its 421: an
# intake process reports a session's end a moment after the client has closed it, and a sender
# at its limit opens the next connection at once.
RECHECK_DELAY, RECHECKS = 0.02, 10
_SYSTEMD_ONLY = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID")


class WorkerExited(RuntimeError):
    """A worker process ended while the daemon runs (it is started again)."""


@dataclass(eq=False)
class _Session:
    """A session as the main process counts it (SessionGate's view of a session)."""

    client_ip: str
    conn_id: int
    envelope: None = None


@dataclass(eq=False)
class _Worker:
    """One worker process: its role, its channel, the sessions handed to it."""

    name: str
    role: str
    process: asyncio.subprocess.Process | None = None
    channel: Channel | None = None
    sessions: dict[int, _Session] = field(default_factory=dict)
    last_error: str | None = None


class Pool:
    """The worker processes of a daemon and the connections handed to them."""

    def __init__(
        self,
        config: Config,
        health: Health,
        on_processed: Callable[[], None],
        metrics: Metrics | None = None,
    ) -> None:
        """`on_processed()` is called when the processing process has written a pass; the
        worker processes' counters are added to `metrics`."""
        dialect, target = locate(config.db_path)  # workers resolve a path as the main one does
        db_path = os.path.abspath(target) if dialect == SQLITE else config.db_path
        spool_path = os.path.abspath(config.spool_path)
        self._config = replace(config, db_path=db_path, spool_path=spool_path)
        self._health = health
        self._on_processed = on_processed
        self._metrics = metrics
        self.gate = SessionGate(SessionLimits.from_config(config.smtp))
        count = config.smtp.intake_processes()
        self.intake = [_Worker(f"intake-{n}", "intake") for n in range(1, count + 1)]
        self.processing = _Worker("processing", "processing")
        self.backlog = 0  # messages stored since the last processing pass (approximate)
        self._ids = itertools.count(1)
        self._stopping = False
        self.started = asyncio.Event()  # set once every worker process has been started

    def loops(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """Return the supervised loops: one per worker process, each keeping it running."""
        workers = [*self.intake, self.processing]
        return {worker.name: partial(self._keep, worker) for worker in workers}

    def wake_processing(self, count: int) -> None:
        """Tell the processing process that `count` messages were stored (dropped when many
        wake-ups are queued already)."""
        self.backlog += count
        if self.processing.channel is not None:
            self.processing.channel.send(f"wake {count}")

    def last_error(self) -> str | None:
        """Return an intake process's last storage error, if it is still unresolved."""
        return next((w.last_error for w in self.intake if w.last_error), None)

    async def bind(self) -> Listener:
        """Bind the listening socket(s) of smtp.listen (not yet accepting).

        Raises OSError as asyncio's create_server does when the address cannot be bound,
        ConfigError when the STARTTLS certificate or key cannot be loaded (checked here, once,
        before any intake process loads them).
        """
        smtp = self._config.smtp
        server_tls(smtp.tls_cert, smtp.tls_key)
        return Listener(bind_sockets(self._config.listen_host, self._config.listen_port), self)

    async def stop_intake(self, grace: float) -> None:
        """Stop every intake process, each letting its transactions in flight finish."""
        self._stopping = True
        await asyncio.gather(*(self._stop(w, grace + 5.0) for w in self.intake))

    def hand_over(self, conn: socket.socket, address: object, tries: int = 0) -> None:
        """Give an accepted connection to the intake process with the fewest sessions, or
        refuse it (421) over a connection limit (after RECHECKS looks) or when no intake
        process is running."""
        session = _Session(client_ip(address), next(self._ids))
        self.gate.enter(session)  # type: ignore[arg-type]
        if tries < RECHECKS and self.gate.over_limit(session):  # type: ignore[arg-type]
            self.gate.leave(session)  # type: ignore[arg-type]
            loop = asyncio.get_running_loop()
            loop.call_later(RECHECK_DELAY, self.hand_over, conn, address, tries + 1)
            return
        reply = self.gate.refusal(session)  # type: ignore[arg-type]
        running = [w for w in self.intake if w.channel is not None]
        worker = min(running, key=lambda w: len(w.sessions), default=None)
        channel = worker.channel if worker is not None and reply is None else None
        if channel is not None and channel.send(f"conn {session.conn_id}", (conn.fileno(),)):
            worker.sessions[session.conn_id] = session  # type: ignore[union-attr]
            conn.close()
            return
        self.gate.leave(session)  # type: ignore[arg-type]
        _refuse(conn, reply or REFUSED)
        if self.gate.on_reply is not None:
            self.gate.on_reply(reply or REFUSED)

    async def _keep(self, worker: _Worker) -> None:
        """Run a worker process until it exits (raise WorkerExited: supervise starts it
        again) or until cancelled (stop it)."""
        if self._stopping and worker.role == "intake":
            await asyncio.Future()  # stopped for good: wait for the cancellation
        process = await self._start(worker)
        try:
            code = await process.wait()
        except asyncio.CancelledError:
            await self._stop(worker, STOP_TIMEOUT)
            raise
        finally:
            self._release(worker)
        if self._stopping and worker.role == "intake":
            await asyncio.Future()
        if code in (0, -signal.SIGTERM, -signal.SIGINT):  # told to stop: a signal to the
            await asyncio.sleep(STOPPED_GRACE)  # whole group reaches the main process too,
            # which then cancels this wait; only a worker stopped alone is started again
        raise WorkerExited(f"{worker.name} exited with status {code}")

    async def _start(self, worker: _Worker) -> asyncio.subprocess.Process:
        """Start a worker process with its end of a new control channel."""
        ours, theirs = pair()
        spec = WorkerSpec(worker.role, worker.name, self._config, theirs.fileno())
        env = {k: v for k, v in os.environ.items() if k not in _SYSTEMD_ONLY}
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",
                "-m",
                "bouncer.daemon.child",
                stdin=asyncio.subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                env=env,
            )
        finally:
            theirs.close()
        assert process.stdin is not None
        process.stdin.write(pickle.dumps(spec))
        process.stdin.close()
        worker.process, worker.channel = process, Channel(ours)
        worker.channel.listen(partial(self._on_message, worker), lambda: None)
        self._health.busy(worker.name)  # silent for stuck_after: unhealthy
        if all(w.channel is not None for w in (*self.intake, self.processing)):
            self.started.set()
        log.info("service.worker_started", worker=worker.name, pid=process.pid)
        return process

    async def _stop(self, worker: _Worker, timeout: float) -> None:
        """SIGTERM a worker process and wait for it (SIGKILL after timeout seconds)."""
        process = worker.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            log.error("service.worker_killed", worker=worker.name, after=timeout)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    def _release(self, worker: _Worker) -> None:
        """Forget a worker process that ended: close its channel, release its sessions."""
        if worker.channel is not None:
            worker.channel.close()
            worker.channel = None
        for session in worker.sessions.values():
            self.gate.leave(session)  # type: ignore[arg-type]
        worker.sessions.clear()

    def _on_message(self, worker: _Worker, text: str, fds: list[int]) -> None:
        """Act on one report from a worker process."""
        for fd in fds:
            os.close(fd)
        kind, _, rest = text.partition(" ")
        if kind == "closed":
            with contextlib.suppress(ValueError, KeyError):
                self.gate.leave(worker.sessions.pop(int(rest)))  # type: ignore[arg-type]
        elif kind == "stored":
            self.wake_processing(int(rest) if rest.isdigit() else 1)
        elif kind == "processed":
            self.backlog = 0
            self._on_processed()
        elif kind == "beat":
            worker.last_error = rest or None
            self._health.beat(worker.name)
            self._health.busy(worker.name)
        elif kind == "failing":
            self._health.fail(worker.name, rest)
        elif kind == "metrics" and self._metrics is not None:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                self._metrics.absorb(json.loads(rest))


def _refuse(conn: socket.socket, reply: str) -> None:
    """Answer a connection with one reply line and close it (never waits)."""
    with contextlib.suppress(OSError):
        conn.setblocking(False)
        conn.send(reply.encode("ascii") + b"\r\n")
    conn.close()
