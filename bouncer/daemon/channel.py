"""A control channel between the daemon's main process and one of its worker processes.

A Unix `SOCK_SEQPACKET` socket pair: each message is one short text line (`"conn 7"`,
`"stored 12"`, `"beat"`), delivered whole and in order, and may carry file descriptors
(`SCM_RIGHTS`: an accepted SMTP connection handed to an intake process). A process learns that
the other end is gone when a read returns end-of-file.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

MAX_FDS = 16
_SIZE = 65536  # the longest message: a worker's metrics report (bouncer.daemon.child)


def pair() -> tuple[socket.socket, socket.socket]:
    """Return two connected ends (both inheritable by a child process only if passed)."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class Channel:
    """One end of a control channel, read on an event loop.

    `send` never blocks unless `blocking_send` is set: the main process must not wait for a
    slow worker (a signal that cannot be queued is dropped, and the caller told), while a
    worker may wait for the main process (its reports must all arrive).
    """

    def __init__(self, sock: socket.socket, *, blocking_send: bool = False) -> None:
        self.sock = sock
        self._flags = 0 if blocking_send else socket.MSG_DONTWAIT
        sock.setblocking(blocking_send)
        self._loop: asyncio.AbstractEventLoop | None = None

    def send(self, text: str, fds: tuple[int, ...] = ()) -> bool:
        """Send one message (with fds); return False if it could not be queued or the other
        end is gone."""
        try:
            socket.send_fds(self.sock, [text.encode()], list(fds), self._flags)
        except (BlockingIOError, ConnectionError, OSError):
            return False
        return True

    def listen(
        self,
        on_message: Callable[[str, list[int]], None],
        on_closed: Callable[[], None],
    ) -> None:
        """Call on_message(text, fds) for every message read on this loop, and on_closed()
        once when the other end is gone."""
        loop = asyncio.get_running_loop()
        self._loop = loop

        def readable() -> None:
            while True:
                try:
                    data, fds, _flags, _addr = socket.recv_fds(
                        self.sock, _SIZE, MAX_FDS, socket.MSG_DONTWAIT
                    )
                except BlockingIOError:
                    return
                except OSError:
                    data, fds = b"", []
                if not data and not fds:
                    self.stop_listening()
                    on_closed()
                    return
                on_message(data.decode(errors="replace"), fds)

        loop.add_reader(self.sock.fileno(), readable)

    def stop_listening(self) -> None:
        """Stop reading (idempotent)."""
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.sock.fileno())
            self._loop = None

    def close(self) -> None:
        """Stop reading and close this end."""
        self.stop_listening()
        self.sock.close()
