"""A control channel between the daemon's main process and one of its worker processes.

A Unix `SOCK_SEQPACKET` socket pair: each message is one short text line (`"conn 7"`,
`"stored 12"`, `"beat"`), delivered whole and in order, and may carry file descriptors
(`SCM_RIGHTS`: an accepted SMTP connection handed to an intake process). A process learns that
the other end is gone when a read returns end-of-file.

Reads and sends say whether they may wait in their own flags (MSG_DONTWAIT) rather than by the
socket's mode: Python 3.11's socket.recv_fds/send_fds drop their flags argument, and uvloop
(libuv) turns a descriptor it watches non-blocking, so the mode is not ours to rely on.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import select
import socket
from collections.abc import Callable

MAX_FDS = 16
SEND_WAIT = 1.0  # seconds a waiting send sleeps at most before it tries again
_SIZE = 65536  # the longest message: a worker's metrics report (bouncer.daemon.child)


def _receive(sock: socket.socket) -> tuple[bytes, list[int]]:
    """Read one waiting message and the descriptors it carries, never waiting (raises
    BlockingIOError when none is waiting)."""
    fds = array.array("i")
    space = socket.CMSG_SPACE(MAX_FDS * fds.itemsize)
    data, ancillary, _flags, _addr = sock.recvmsg(_SIZE, space, socket.MSG_DONTWAIT)
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


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
        self._blocking = blocking_send
        sock.setblocking(False)
        self._loop: asyncio.AbstractEventLoop | None = None

    def send(self, text: str, fds: tuple[int, ...] = ()) -> bool:
        """Send one message (with fds); return False if it could not be queued (without
        `blocking_send`: the other end's queue is full) or the other end is gone."""
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        while True:
            try:
                self.sock.sendmsg([text.encode()], rights, socket.MSG_DONTWAIT)
            except BlockingIOError:
                if not self._blocking:
                    return False
                select.select([], [self.sock], [], SEND_WAIT)  # room in the queue, or a while
                continue
            except OSError:  # the other end is gone (ConnectionError and the like)
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
                    data, fds = _receive(self.sock)
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
