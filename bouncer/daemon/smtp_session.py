"""SMTP session limits: connection caps (total and per client address), commands without mail,
session lifetime, idle and DATA timeouts, long lines, STARTTLS.

The limits follow Postfix's smtpd, the MTA most bounces come from and the one operators know:
`smtpd_client_connection_count_limit` (per client), `smtpd_junk_command_limit` (commands that
deliver nothing), `smtpd_timeout` (silence), with RFC 5321 section 4.5.3.2's DATA timeouts.
Every refusal is a 4xx (421 closes the session): the sender keeps its bounce and retries.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from aiosmtpd.smtp import SMTP

if TYPE_CHECKING:
    from bouncer.config import SmtpConfig
    from bouncer.daemon.smtp import BounceHandler

log = structlog.get_logger("bouncer.smtp")


@dataclass(frozen=True)
class SessionLimits:
    """What one SMTP session may do (seconds for times, octets for sizes; 0 or None: no cap)."""

    max_sessions: int = 100
    max_per_ip: int = 20
    junk_command_limit: int = 100
    lifetime: float = 1800.0
    idle_timeout: float = 300.0
    data_timeout: float = 600.0
    max_message_size: int = 10_240_000

    @classmethod
    def from_config(cls, smtp: SmtpConfig) -> SessionLimits:
        """Take the limits from the [smtp] section."""
        return cls(
            max_sessions=smtp.max_connections,
            max_per_ip=smtp.max_connections_per_ip,
            junk_command_limit=smtp.junk_command_limit,
            lifetime=smtp.session_lifetime,
            idle_timeout=smtp.timeout,
            data_timeout=smtp.data_timeout,
            max_message_size=smtp.max_message_size,
        )


def client_ip(peer: object) -> str:
    """Return the client's address without the port ('' when unknown)."""
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "")


class SessionGate:
    """Counts open SMTP sessions, caps them in all and per client address, and tells which are
    inside a mail transaction."""

    def __init__(self, limits: SessionLimits | int) -> None:
        """`limits` may be a bare number: the total cap, other limits at their defaults."""
        if isinstance(limits, int):
            limits = SessionLimits(max_sessions=limits)
        self.limits = limits
        self.sessions: set[BounceSMTP] = set()
        self.on_reply: Callable[[str], None] | None = None  # told every reply line sent
        self._per_ip: Counter[str] = Counter()

    @property
    def max_sessions(self) -> int:
        """The cap on concurrent sessions."""
        return self.limits.max_sessions

    def enter(self, smtp: BounceSMTP) -> None:
        """Register a new session."""
        self.sessions.add(smtp)
        self._per_ip[smtp.client_ip] += 1

    def leave(self, smtp: BounceSMTP) -> None:
        """Unregister a session (idempotent)."""
        if smtp in self.sessions:
            self.sessions.discard(smtp)
            self._per_ip[smtp.client_ip] -= 1
            if self._per_ip[smtp.client_ip] <= 0:
                del self._per_ip[smtp.client_ip]

    def over_limit(self, smtp: BounceSMTP) -> bool:
        """Tell whether a registered session is over a cap (as `refusal`, without a log line)."""
        per_ip = self.limits.max_per_ip and self._per_ip[smtp.client_ip] > self.limits.max_per_ip
        return len(self.sessions) > self.limits.max_sessions or bool(per_ip)

    def refusal(self, smtp: BounceSMTP) -> str | None:
        """Return the 421 reply for a session over a cap (None: admit it)."""
        if len(self.sessions) > self.limits.max_sessions:
            log.warning("smtp.too_many_sessions", limit=self.limits.max_sessions)
            return "421 4.7.0 Too many connections, try again later"
        if self.limits.max_per_ip and self._per_ip[smtp.client_ip] > self.limits.max_per_ip:
            log.warning("smtp.too_many_from_ip", ip=smtp.client_ip, limit=self.limits.max_per_ip)
            return "421 4.7.0 Too many connections from your address, try again later"
        return None

    def busy(self) -> list[BounceSMTP]:
        """Return the sessions inside a mail transaction (MAIL given, DATA not finished)."""
        return [s for s in self.sessions if s.envelope is not None and s.envelope.mail_from]

    def close_idle(self) -> None:
        """Say 421 to, and close, every session that is not inside a mail transaction."""
        busy = self.busy()
        for smtp in list(self.sessions):
            if smtp not in busy:
                smtp.say_goodbye("421 4.3.2 Service shutting down, try again later")

    async def drain(self, grace: float) -> None:
        """Close idle sessions and wait (up to grace seconds) for transactions in flight to
        end; then close what is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.sessions and loop.time() < deadline:
            self.close_idle()
            await asyncio.sleep(0.05)
        for smtp in list(self.sessions):
            if smtp.transport is not None:
                smtp.transport.close()


def session_options(smtp: SmtpConfig, tls: ssl.SSLContext | None) -> dict:
    """Return the aiosmtpd session options of the [smtp] config (hostname, size limit,
    SMTPUTF8, STARTTLS context), as keyword arguments of BounceSMTP."""
    return {
        "hostname": smtp.hostname,
        "data_size_limit": smtp.max_message_size,
        "enable_SMTPUTF8": True,
        "tls_context": tls,
    }


def server_tls(cert: str, key: str) -> ssl.SSLContext | None:
    """Return the STARTTLS context for a PEM certificate chain and key ('' , '': no STARTTLS).

    Opportunistic TLS as MTAs use it between each other (RFC 3207; RFC 7435): no client
    certificate is asked for. Raises ConfigError naming the file when either cannot be loaded.
    """
    if not cert:
        return None
    from bouncer.config import ConfigError

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key or None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(f"smtp.tls_cert/tls_key: cannot load {cert} and {key}: {reason}") from exc
    return context


class BounceSMTP(SMTP):
    """aiosmtpd's SMTP with bouncer's session limits (see the module docstring).

    Lines of any length are accepted up to the message size limit, rather than refused with
    aiosmtpd's permanent `500 Line too long`: a bounce quoting an overlong line must not be
    lost (RFC 5321 section 4.5.3.1.6 lets servers accept longer lines; Postfix does).
    """

    def __init__(self, handler: BounceHandler, gate: SessionGate, **kwargs: object) -> None:
        """`kwargs` go to aiosmtpd's SMTP; `timeout` is replaced by the gate's idle timeout."""
        limits = gate.limits
        # The stream limit bounds one buffered line; a whole message is buffered anyway.
        self.line_length_limit = max(1 << 16, limits.max_message_size + 1024)
        kwargs["timeout"] = limits.idle_timeout
        super().__init__(handler, **kwargs)  # type: ignore[arg-type]
        self._gate = gate
        self._limits = limits
        self._junk_left = limits.junk_command_limit
        self._data_deadline: float | None = None
        self._expired = False
        self._lifetime: asyncio.TimerHandle | None = None
        self._smtp_methods = {
            name: self._counted(name, m) for name, m in self._smtp_methods.items()
        }
        self.client_ip = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the session with the gate and start its lifetime clock."""
        if self.transport is None:  # not the STARTTLS re-entry
            self.client_ip = client_ip(transport.get_extra_info("peername"))
            self._gate.enter(self)
            if self._limits.lifetime:
                self._lifetime = self.loop.call_later(self._limits.lifetime, self._end_of_life)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        """Unregister the session."""
        self._gate.leave(self)
        if self._lifetime is not None:
            self._lifetime.cancel()
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        """Restart the idle timer on every byte; end a DATA phase that outlasts data_timeout."""
        if self._data_deadline is not None and self.loop.time() > self._data_deadline:
            log.warning("smtp.data_timeout", ip=self.client_ip, limit=self._limits.data_timeout)
            self.say_goodbye("421 4.4.2 Data transfer took too long, closing connection")
            return
        self._reset_timeout()
        super().data_received(data)

    async def push(self, status: str | bytes) -> None:
        """Send a reply; a line beyond the stream limit is over the size limit: 552, never 500."""
        if isinstance(status, str) and status.startswith("500 Line too long"):
            status = "552 5.3.4 Error: Too much mail data"
        self._told(status)
        await super().push(status)

    def _told(self, status: str | bytes) -> None:
        """Pass a reply line to the gate's on_reply (metrics count replies by code)."""
        if self._gate.on_reply is not None:
            text = status if isinstance(status, str) else status.decode("ascii", "replace")
            self._gate.on_reply(text)

    def say_goodbye(self, reply: str) -> None:
        """Write a final reply and close the connection (nothing more is read)."""
        if self.transport is not None and not self.transport.is_closing():
            self._told(reply)
            self.transport.write(reply.encode("ascii") + b"\r\n")
            self.transport.close()

    def _end_of_life(self) -> None:
        """Close a session that has lasted session_lifetime, after any DATA in progress."""
        log.info("smtp.session_lifetime", ip=self.client_ip, limit=self._limits.lifetime)
        if self._data_deadline is None:
            self.say_goodbye("421 4.4.2 Session lasted too long, closing connection")
        else:
            self._expired = True

    def _counted(self, command: str, method):  # noqa: ANN001, ANN202 - aiosmtpd's command methods
        """Wrap a command: spend the junk budget, time DATA, close an expired session."""

        async def run(arg: str | None) -> None:
            if not self._spend():
                log.warning("smtp.too_many_commands", ip=self.client_ip, command=command)
                self.say_goodbye("421 4.7.0 Too many commands without mail, closing")
                return
            held = len(self.envelope.rcpt_tos) if self.envelope is not None else 0
            if command == "DATA":
                await self._timed_data(method, arg)
            else:
                await method(arg)
            if (
                command == "RCPT"
                and self.envelope is not None
                and len(self.envelope.rcpt_tos) > held
            ):
                self._junk_left += 1  # an accepted recipient moves the transaction on

        return run

    def _spend(self) -> bool:
        """Charge one command to the junk budget; say whether the session may go on."""
        if not self._limits.junk_command_limit:
            return True
        self._junk_left -= 1
        return self._junk_left >= 0

    async def _timed_data(self, method, arg: str | None) -> None:  # noqa: ANN001
        """Run DATA under the data_timeout deadline; then end a session past its lifetime."""
        if self._limits.data_timeout:
            self._data_deadline = self.loop.time() + self._limits.data_timeout
        try:
            await method(arg)
        finally:
            self._data_deadline = None
        if self._expired:
            self.say_goodbye("421 4.4.2 Session lasted too long, closing connection")

    def message_stored(self) -> None:
        """Refill the junk budget: the session has delivered a message.

        Every command spends one from the budget (junk_command_limit) except an accepted RCPT;
        a stored message refills it, so a sender may deliver any number of messages in one
        session while NOOP, RSET, VRFY, refused RCPTs or MAIL without DATA are capped.
        """
        self._junk_left = self._limits.junk_command_limit

    async def _handle_client(self) -> None:
        """Refuse with 421 when over a connection cap, else serve the session."""
        reply = self._gate.refusal(self)
        if reply is not None:
            await self.push(reply)
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()
