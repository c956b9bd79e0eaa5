"""The SMTP edge: accept bounces for the configured domains, commit the raw message, then 250.

Session limits (connection caps, timeouts, STARTTLS) live in bouncer.daemon.smtp_session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from bouncer.clock import utcnow
from bouncer.config import Config
from bouncer.core.addresses import domain_of
from bouncer.store.inbox import Incoming

if TYPE_CHECKING:
    from bouncer.http.metrics import Metrics

log = structlog.get_logger("bouncer.smtp")

REPLY_STORE_FAILED = "451 4.3.0 Message not stored, please try again later"
REPLY_INTERNAL = "451 4.3.0 Internal error, please try again later"


def _peer(session: Session) -> str | None:
    """Return the client address as 'host:port'."""
    peer = session.peer
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer) if peer else None


def verp_refusal(
    config: Config, clock: Callable[[], datetime]
) -> Callable[[str], str | None] | None:
    """Return the RCPT check of signed return paths when they are required (else None)."""
    verp = config.verp
    if not (verp.require_valid and verp.keys):
        return None
    from bouncer.core.verp import day_number, refusal

    secrets = verp.secrets()
    return lambda address: refusal(address, secrets, day_number(clock()), verp.max_age.days)


class BounceHandler:
    """aiosmtpd handler: RCPT policy, recipient limit, store-then-reply DATA."""

    def __init__(
        self,
        domains: Iterable[str],
        store: Callable[[Incoming], Awaitable[int | str]],
        *,
        max_recipients: int = 1000,
        on_stored: Callable[[int], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        refuse: Callable[[str], str | None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """`store(item)` commits a message and returns its id, or its spool key (text) when
        it went to the node's local spool (the shared store away: bouncer.daemon.intake);
        `on_stored(id)` is called after each message stored (not after one spooled: the
        spool's forwarder says when it is in the store). `refuse(address)` names why a bounce
        address is refused (verp.require_valid: a token that does not hold, or unsigned VERP),
        or returns None to accept it; `metrics` counts messages received, stored, spooled and
        not stored."""
        self._refuse = refuse
        self._metrics = metrics
        self.domains = frozenset(d.lower().rstrip(".") for d in domains)
        self._store = store
        self._max_recipients = max_recipients
        self._on_stored = on_stored
        self._clock = clock

    def accepts(self, address: str) -> bool:
        """Say whether an envelope recipient is ours: a bounce domain, or bare postmaster."""
        if "@" not in address:
            return address.strip("<>").lower() == "postmaster"
        return domain_of(address).rstrip(".") in self.domains

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept the recipient only for our domains (never a relay), up to the limit."""
        if not self.accepts(address):
            log.info("smtp.rcpt_rejected", rcpt=address, peer=_peer(session))
            return f"550 5.7.1 <{address}>: relay access denied, not a bounce domain here"
        problem = self._refuse(address) if self._refuse is not None else None
        if problem is not None:
            log.info("smtp.rcpt_forged", rcpt=address, problem=problem, peer=_peer(session))
            return f"550 5.7.1 <{address}>: not a return path signed here ({problem})"
        if len(envelope.rcpt_tos) >= self._max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Commit the raw message; answer 250 only after the commit, 451 if it failed."""
        raw = envelope.original_content or b""
        item = Incoming(
            self._clock(), envelope.mail_from or "<>", tuple(envelope.rcpt_tos), _peer(session), raw
        )
        if self._metrics is not None:
            self._metrics.received.inc()
        try:
            message_id = await self._store(item)
        except Exception as exc:  # noqa: BLE001 - any storage failure must become a 451
            log.error("message.store_failed", error=str(exc), peer=item.peer, size=len(raw))
            if self._metrics is not None:
                self._metrics.message_failed(None, "store")
            return REPLY_STORE_FAILED
        if isinstance(message_id, str):
            return self._spooled(server, item, message_id)
        if self._metrics is not None:
            self._metrics.message_stored(message_id)
        log.info(
            "message.stored",
            message=message_id,
            mail_from=item.mail_from,
            rcpt=list(item.rcpt_to),
            size=len(raw),
            peer=item.peer,
        )
        if self._on_stored is not None:
            self._on_stored(message_id)
        if hasattr(server, "message_stored"):
            server.message_stored()
        return f"250 2.0.0 Ok: stored as {message_id}"

    def _spooled(self, server: SMTP, item: Incoming, key: str) -> str:
        """Count and log a message committed to the local spool; return its 250."""
        if self._metrics is not None:
            self._metrics.spooled.inc()
        log.info(
            "message.spooled",
            spool_key=key,
            mail_from=item.mail_from,
            rcpt=list(item.rcpt_to),
            size=len(item.raw),
            peer=item.peer,
        )
        if hasattr(server, "message_stored"):
            server.message_stored()
        return f"250 2.0.0 Ok: spooled as {key}"

    async def handle_exception(self, error: Exception) -> str:
        """Turn an unexpected error into a temporary reply so the sender retries."""
        log.error("smtp.error", error=repr(error))
        return REPLY_INTERNAL
