"""The main process's listening sockets when SMTP intake runs in worker processes
(bouncer.daemon.pool): accepted connections are handed to the pool, never served here."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from bouncer.daemon.pool import Pool

log = structlog.get_logger("bouncer.service")


class Listener:
    """The main process's listening sockets: accepts connections and hands them to the pool
    (the part of asyncio.Server the daemon uses: sockets, start_serving, close)."""

    def __init__(self, sockets: list[socket.socket], pool: Pool) -> None:
        self.sockets = sockets
        self._pool = pool
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start_serving(self) -> None:
        """Start accepting connections once the worker processes have been started."""
        await asyncio.wait_for(self._pool.started.wait(), 60)
        self._loop = asyncio.get_running_loop()
        for sock in self.sockets:
            self._loop.add_reader(sock.fileno(), self._accept, sock)

    def is_serving(self) -> bool:
        """Say whether connections are being accepted."""
        return self._loop is not None and all(sock.fileno() >= 0 for sock in self.sockets)

    def close(self) -> None:
        """Stop accepting and close the listening sockets (idempotent)."""
        for sock in self.sockets:
            if self._loop is not None and sock.fileno() >= 0:
                self._loop.remove_reader(sock.fileno())
            sock.close()

    def _accept(self, sock: socket.socket) -> None:
        """Accept the waiting connections (a bounded number per turn of the loop)."""
        for _ in range(64):
            try:
                conn, address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of file descriptors, ...: try again on the next turn
                log.error("smtp.accept_failed", error=str(exc))
                return
            self._pool.hand_over(conn, address)


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Bind and listen on every address host resolves to (as asyncio's create_server does:
    SO_REUSEADDR, IPv6 sockets IPv6 only); close them all if one fails."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(100)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
