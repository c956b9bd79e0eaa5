"""Intake benchmark: messages/s that bouncer commits over SMTP, against a do-nothing aiosmtpd.

Both servers run in this process on loopback; clients are threads with smtplib, each sending
its share of messages over one session. The reference handler answers 250 without storing, so
the ratio shows what durable storage (commit before 250) costs.

    .venv/bin/python bench/intake.py [--sessions 20] [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.smtp import SMTP  # noqa: E402

from bouncer.config import Config, HttpConfig, SmtpConfig  # noqa: E402
from bouncer.daemon.service import serve  # noqa: E402
from tests.messages import postfix_dsn  # noqa: E402


class _Accept:
    """Reference handler: accept everything, store nothing."""

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        return "250 OK"


def _in_thread(start: Callable[[asyncio.Event, Callable[[int], None]], object]):  # noqa: ANN202
    """Run a server coroutine on its own loop in a thread; return (port, stop)."""
    ready, holder = threading.Event(), {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        holder["loop"], holder["stop"] = loop, asyncio.Event()

        def on_ready(port: int) -> None:
            holder["port"] = port
            ready.set()

        loop.run_until_complete(start(holder["stop"], on_ready))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(20)

    def stop() -> None:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(30)

    return holder["port"], stop


async def _reference(stop: asyncio.Event, ready: Callable[[int], None]) -> None:
    """A bare aiosmtpd server on the same loop set-up."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(_Accept(), hostname="ref"), "127.0.0.1", 0)
    ready(server.sockets[0].getsockname()[1])
    await stop.wait()
    server.close()


def _send(port: int, sessions: int, messages: int, raw: bytes) -> float:
    """Send messages over concurrent sessions; return messages per second."""
    share = messages // sessions

    def one_session(_: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            for _ in range(share):
                client.sendmail("", ["bounces@localhost"], raw)

    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(one_session, range(sessions)))
    return share * sessions / (time.perf_counter() - started)


def main() -> None:
    """Run both servers and print their rates and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    raw = postfix_dsn("user@example.com", "5.1.1", "550 5.1.1 <user@example.com>: User unknown")
    padding_line = b"X-Padding: " + b"p" * 70 + b"\r\n"
    raw += padding_line * ((4096 - len(raw)) // len(padding_line))
    with tempfile.TemporaryDirectory() as folder:
        config = Config(
            db_path=str(Path(folder) / "bench.db"),
            smtp=replace(SmtpConfig(), listen="127.0.0.1:0"),
            http=HttpConfig(listen="127.0.0.1:0"),
        )
        from bouncer.logs import configure

        configure("json", "warning")
        port, stop = _in_thread(lambda s, r: serve(config, ready=r, stop=s))
        bouncer_rate = _send(port, args.sessions, args.messages, raw)
        stop()
    port, stop = _in_thread(_reference)
    reference_rate = _send(port, args.sessions, args.messages, raw)
    stop()
    print(f"message size {len(raw)} bytes, {args.sessions} sessions, {args.messages} messages")
    print(f"bouncer (commit before 250): {bouncer_rate:8.0f} msgs/s")
    print(f"aiosmtpd do-nothing handler: {reference_rate:8.0f} msgs/s")
    print(f"ratio bouncer/reference:     {bouncer_rate / reference_rate:8.2f}")


if __name__ == "__main__":
    main()
