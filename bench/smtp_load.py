"""The Python load for bench/intake.py: SMTP sessions that send DSNs and time each one.

Run as a process of its own (so its CPU is not the server's), on uvloop when installed:

    python bench/smtp_load.py PORT --sessions 20 --messages 4000 --size 4096 [--new-connections]

Each message is a Postfix-style DSN about a recipient of its own (a distinct report: the
server cannot take it for a copy), padded with the returned message's header lines (4 KB) or
carrying the full returned message (larger sizes). Sessions speak plain SMTP without
pipelining (as smtp-source and most MTAs sending to one host do): EHLO, then per message MAIL,
RCPT, DATA and the content; with --new-connections each message has a connection of its own
(connect, EHLO, ..., QUIT). Prints one JSON object: messages/s, the times from the end of DATA
to the reply (ms), the message ids the 250 replies named ("stored as N"), and failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.messages import postfix_dsn  # noqa: E402

STORED = re.compile(rb"stored as (\d+)")
_HEADER = b"X-Original-Header-%d: v=1; a=rsa-sha256; d=shop.example; s=mail; bh=%s\r\n"
_BODY = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n"


def template(size: int) -> bytes:
    """Return a DSN of about size bytes whose recipient's local part ends with @@N@@."""
    raw = postfix_dsn("user-@@N@@@example.com", "5.1.1", "550 5.1.1 User unknown")
    head, closing = raw.rsplit(b"--B0UNDARY--", 1)
    if size <= 8192:  # headers only (text/rfc822-headers), padded with more header lines
        lines, n = [], 0
        while len(head) + sum(map(len, lines)) < size - 60:
            lines.append(_HEADER % (n, b"x" * 40))
            n += 1
        return head.rstrip(b"\r\n") + b"\r\n" + b"".join(lines) + b"\r\n--B0UNDARY--" + closing
    raw = raw.replace(  # the full returned message instead of its headers
        b"Undelivered Message Headers\r\nContent-Type: text/rfc822-headers",
        b"Undelivered Message\r\nContent-Type: message/rfc822",
    )
    head, closing = raw.rsplit(b"--B0UNDARY--", 1)
    body = _BODY * max(0, (size - len(raw)) // len(_BODY))
    return head + body + b"\r\n--B0UNDARY--" + closing


def messages(size: int, count: int, tag: str) -> list[bytes]:
    """Return count DSNs of about size bytes, each about its own recipient, dot-stuffed and
    ended with the final dot line, ready to send after DATA."""
    base = template(size).replace(b"\r\n.", b"\r\n..")
    return [base.replace(b"@@N@@", f"{tag}-{n}".encode()) + b".\r\n" for n in range(count)]


class Session(asyncio.Protocol):
    """One SMTP client connection: send a command, await its (last) reply line."""

    def __init__(self) -> None:
        self.buffer = b""
        self.replies: list[bytes] = []
        self.waiter: asyncio.Future | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            if line[3:4] != b"-":  # the last line of a reply
                self.replies.append(line)
        if self.replies and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.replies.pop(0))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(b"000 connection lost")

    async def reply(self, data: bytes = b"") -> bytes:
        """Send data (if any) and return the next reply line."""
        if data and self.transport is not None:
            self.transport.write(data)
        if self.replies:
            return self.replies.pop(0)
        if self.closed:
            return b"000 connection lost"
        self.waiter = asyncio.get_running_loop().create_future()
        return await self.waiter


async def _connect(port: int) -> Session:
    """Open a session: connect, greeting, EHLO."""
    _, session = await asyncio.get_running_loop().create_connection(Session, "127.0.0.1", port)
    for data in (b"", b"EHLO load.example\r\n"):
        reply = await session.reply(data)
        if not reply.startswith(b"2"):
            raise ConnectionError(reply.decode(errors="replace"))
    return session


async def _one_session(port: int, payloads: list[bytes], reuse: bool, out: dict) -> None:
    """Send payloads one after the other; record latencies, ids and failures in out."""
    session = None
    for payload in payloads:
        try:
            session = session or await _connect(port)
        except (OSError, ConnectionError) as exc:
            out["failures"].append(f"connect: {exc}")
            continue
        replies = [await session.reply(b"MAIL FROM:<>\r\n")]
        replies.append(await session.reply(b"RCPT TO:<bounces@localhost>\r\n"))
        replies.append(await session.reply(b"DATA\r\n"))
        if replies[-1].startswith(b"354"):
            started = time.perf_counter()
            replies.append(await session.reply(payload))
            out["latencies"].append(time.perf_counter() - started)
        if replies[-1].startswith(b"250") and len(replies) == 4:
            match = STORED.search(replies[-1])
            out["ids"].append(int(match.group(1)) if match else 0)
        else:
            out["failures"].append(b" / ".join(replies).decode(errors="replace"))
            await session.reply(b"RSET\r\n")
        if not reuse or session.closed:
            if not session.closed:
                await session.reply(b"QUIT\r\n")
            session.transport.close()
            session = None
    if session is not None:
        await session.reply(b"QUIT\r\n")
        session.transport.close()


async def load(port: int, sessions: int, payloads: list[bytes], reuse: bool) -> dict:
    """Send payloads over `sessions` concurrent sessions; return the figures."""
    out: dict = {"latencies": [], "ids": [], "failures": []}
    shares = [payloads[k::sessions] for k in range(sessions)]
    started = time.perf_counter()
    await asyncio.gather(*(_one_session(port, share, reuse, out) for share in shares))
    elapsed = time.perf_counter() - started
    latencies = sorted(out.pop("latencies"))

    def at(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    return {
        "sent": len(payloads),
        "accepted": len(out["ids"]),
        "seconds": elapsed,
        "rate": len(out["ids"]) / elapsed,
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "latencies_ms": [round(x * 1000, 3) for x in latencies],
        **out,
    }


def main() -> None:
    """Parse the arguments, build the messages, run the load, print the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--new-connections", action="store_true")
    parser.add_argument("--tag", default="r")
    args = parser.parse_args()
    payloads = messages(args.size, args.messages, args.tag)
    main_coroutine = load(args.port, args.sessions, payloads, not args.new_connections)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(main_coroutine)
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(main_coroutine)
    result["client_cpu_us"] = time.process_time() * 1e6 / max(1, args.messages)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
