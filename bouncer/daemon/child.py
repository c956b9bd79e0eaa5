"""A worker process of the daemon (`python -m bouncer.daemon.child`), started by the main
process's pool (bouncer.daemon.pool) when smtp.processes is above 1.

It reads its `WorkerSpec` (pickled) from standard input, then plays one role until SIGTERM:

* **intake**: serves the SMTP sessions the main process hands over on the control channel
  (`conn ID` with the accepted socket), commits every message with its own group-commit writer
  before the 250 (as the one-process daemon does), reports `stored N` after commits and
  `closed ID` when a session ends (the main process keeps the connection limits for all
  intake processes). On SIGTERM it lets transactions in flight finish (smtp.shutdown_grace).
* **processing**: processes stored messages (bouncer.daemon.worker.Processor) whenever the
  main process says `wake`, reports `processed` after each pass. On SIGTERM it finishes the
  batch in hand; what is left the main process processes as it stops.

Every second it reports `beat` (an intake process adds its last storage error; a processing
process that keeps failing says `failing ERROR`) and `metrics JSON`, what its counters moved
since (bouncer.http.metrics: `Metrics.relay`). It ignores SIGINT (the main process stops it)
and never speaks to systemd. When the main process is gone (end of file on the channel) it
stops as on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import structlog

from bouncer.clock import utcnow
from bouncer.config import Config
from bouncer.daemon.channel import Channel
from bouncer.daemon.health import Health, supervise
from bouncer.http.metrics import Metrics
from bouncer.store import locate
from bouncer.store.dialect import POSTGRESQL

if TYPE_CHECKING:  # imported where they are used: a processing process needs neither
    from bouncer.daemon.smtp import BounceHandler
    from bouncer.daemon.smtp_session import SessionGate

BEAT_INTERVAL = 1.0
REPORT_DELAY = 0.01  # seconds: stored messages are reported together, at most this late
PROCESSING_NICE = 10  # processing's CPU priority (nice): SMTP sessions go first


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process is to do: its role ("intake" or "processing"), its name in logs
    and health reports, the configuration, and the number of its control channel's fd."""

    role: str
    name: str
    config: Config
    fd: int


class _Reports:
    """Counts stored messages and reports them together (one report per REPORT_DELAY)."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._stored = 0

    def stored(self, _message_id: int | None = None) -> None:
        """Count one stored message; report the count REPORT_DELAY seconds after the first."""
        if not self._stored:
            asyncio.get_running_loop().call_later(REPORT_DELAY, self.flush)
        self._stored += 1

    def flush(self) -> None:
        """Report the messages counted so far."""
        if self._stored:
            self._channel.send(f"stored {self._stored}")
            self._stored = 0


async def _beats(
    channel: Channel, problem: Callable[[], str | None], prefix: str, metrics: Metrics
) -> None:
    """Report liveness every BEAT_INTERVAL seconds (`beat`, or PREFIX + the problem) and what
    the metrics moved."""
    while True:
        found = problem()
        channel.send(f"{prefix} {found}" if found else "beat")
        _relay(channel, metrics)
        await asyncio.sleep(BEAT_INTERVAL)


def _relay(channel: Channel, metrics: Metrics) -> None:
    """Report what the metrics moved since the last report (nothing when nothing did)."""
    moved = metrics.relay()
    if moved is not None:
        channel.send("metrics " + json.dumps(moved, separators=(",", ":")))


async def _intake(spec: WorkerSpec, channel: Channel, stop: asyncio.Event) -> None:
    """Serve the sessions handed over until stopped; then let those in flight finish."""
    from bouncer.daemon.intake import InboxWriter
    from bouncer.daemon.smtp import BounceHandler, verp_refusal
    from bouncer.daemon.smtp_session import SessionGate, SessionLimits

    config, loop = spec.config, asyncio.get_running_loop()
    smtp, reports, metrics = config.smtp, _Reports(channel), Metrics(relay=True)
    gate = SessionGate(SessionLimits.from_config(smtp))
    gate.on_reply = metrics.reply
    writer = InboxWriter(
        config.db_path, checkpoint_on_commit=False, spool=config.spool_path
    ).start()
    handler = BounceHandler(
        smtp.domains,
        writer.store,
        max_recipients=smtp.max_recipients,
        on_stored=reports.stored,
        refuse=verp_refusal(config, utcnow),
        metrics=metrics,
    )
    channel.listen(_hand_overs(config, channel, handler, gate), stop.set)
    beats = loop.create_task(_beats(channel, lambda: writer.last_error, "beat", metrics))
    await stop.wait()
    channel.stop_listening()  # nothing more is handed over once stopping
    await gate.drain(smtp.shutdown_grace)
    await loop.run_in_executor(None, writer.stop)
    reports.flush()
    beats.cancel()
    _relay(channel, metrics)


def _hand_overs(
    config: Config, channel: Channel, handler: BounceHandler, gate: SessionGate
) -> Callable[[str, list[int]], None]:
    """Return the reader of the main process's messages: each `conn ID` with its socket
    becomes an SMTP session on this loop, whose end is reported back (`closed ID`)."""
    from bouncer.daemon.smtp_session import BounceSMTP, server_tls, session_options

    loop = asyncio.get_running_loop()
    options = session_options(config.smtp, server_tls(config.smtp.tls_cert, config.smtp.tls_key))

    class HandedSession(BounceSMTP):
        """A session handed over by the main process; its end is reported back."""

        def __init__(self, conn_id: str) -> None:
            super().__init__(handler, gate, **options)
            self.conn_id = conn_id

        def connection_lost(self, error: Exception | None) -> None:
            if self in gate.sessions:
                channel.send(f"closed {self.conn_id}")
            super().connection_lost(error)

    async def adopt(conn: socket.socket, conn_id: str) -> None:
        try:
            await loop.connect_accepted_socket(lambda: HandedSession(conn_id), conn)
        except OSError:  # the client left before the session began
            conn.close()
            channel.send(f"closed {conn_id}")

    def on_message(text: str, fds: list[int]) -> None:
        kind, _, conn_id = text.partition(" ")
        if kind == "conn" and fds:
            loop.create_task(adopt(socket.socket(fileno=fds.pop(0)), conn_id))
        for fd in fds:
            os.close(fd)

    return on_message


def _lower_priority() -> None:
    """Run at nice PROCESSING_NICE: when the CPUs are short, SMTP sessions (a sender waits for
    each 250) go before processing (stored messages wait without harm), which takes every idle
    moment and catches up after a burst. Without it, processing at full speed can hold intake
    below the rate at which processing yields (bouncer.daemon.worker, BUSY_RATE). Where the
    priority cannot be changed (the systemd unit filters setpriority: EPERM), processing
    keeps its priority and relies on yielding alone."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, max(current, PROCESSING_NICE))
    except OSError as exc:
        structlog.get_logger("bouncer.service").info("processing.priority_kept", error=str(exc))


async def _processing(spec: WorkerSpec, channel: Channel, stop: asyncio.Event) -> None:
    """Process stored messages whenever woken, until stopped."""
    _lower_priority()
    from bouncer.app.processing import Settings
    from bouncer.daemon.worker import LOOP, Processor

    health, metrics = Health(), Metrics(relay=True)
    if locate(spec.config.db_path)[0] == POSTGRESQL:  # see Health.waits_for
        from bouncer.store.pg import unreachable

        health.waits_for = unreachable
    settings = Settings.from_config(spec.config)
    processor = Processor(
        spec.config.db_path, settings, utcnow, health, metrics, checkpoint_on_commit=False
    )
    processor.on_processed = lambda: channel.send("processed")

    def on_message(text: str, _fds: list[int]) -> None:
        kind, _, count = text.partition(" ")
        if kind == "wake":
            processor.wake(count=int(count) if count.isdigit() else 1)

    channel.listen(on_message, stop.set)
    loop = asyncio.get_running_loop()
    running = loop.create_task(supervise(LOOP, processor.run, health))
    failing = partial(health.last_error, waiting=False)  # the store away: not failing
    beats = loop.create_task(_beats(channel, failing, "failing", metrics))
    await stop.wait()
    for task in (running, beats):
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await processor.release()
    _relay(channel, metrics)


async def _main(spec: WorkerSpec) -> None:
    """Play the spec's role until SIGTERM or until the main process is gone."""
    channel = Channel(socket.socket(fileno=spec.fd), blocking_send=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    role = _intake if spec.role == "intake" else _processing
    try:
        await role(spec, channel, stop)
    finally:
        channel.close()


def main() -> None:
    """Read the spec from standard input and run the worker."""
    from bouncer.daemon.eventloop import run
    from bouncer.logs import configure

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spec: WorkerSpec = pickle.load(sys.stdin.buffer)
    configure(spec.config.log_format, spec.config.log_level)
    run(_main(spec))


if __name__ == "__main__":
    main()
