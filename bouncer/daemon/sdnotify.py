"""systemd's notify protocol: READY/STOPPING/STATUS lines, and a watchdog that pings only while
the daemon is healthy (sd_notify(3); a no-op when not run by systemd)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable

import structlog

from bouncer.daemon.health import Health

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


def watchdog_interval() -> float:
    """Return half of systemd's WatchdogSec in seconds (0 when there is no watchdog for us)."""
    interval = int(os.environ.get("WATCHDOG_USEC", "0")) / 2_000_000
    if os.environ.get("WATCHDOG_PID", str(os.getpid())) != str(os.getpid()):
        return 0.0
    return max(interval, 0.0)


async def watchdog(health: Health, status: Callable[[], str], every: float = 0.0) -> None:
    """Every interval: send STATUS=, and WATCHDOG=1 only while every loop is healthy.

    A daemon whose loop is dead, stuck or failing for long stops pinging, and systemd restarts
    it (WatchdogSec=). Without a watchdog it still sends STATUS= lines every 15 s.
    """
    interval = every or watchdog_interval() or 15.0
    pinging = watchdog_interval() > 0 or every > 0
    reported: tuple[str, ...] = ()
    while True:
        problems = tuple(health.problems())
        if problems != reported:
            if problems:
                log.error("service.unhealthy", problems=list(problems))
            else:
                log.info("service.healthy")
            reported = problems
        sd_notify(f"STATUS={status()}")
        if pinging and not problems:
            sd_notify("WATCHDOG=1")
        await asyncio.sleep(interval)
