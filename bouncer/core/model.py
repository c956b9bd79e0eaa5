"""Values that cross module boundaries: reports, entries, verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("bounce", "delay", "delivered", "autoreply", "complaint", "unknown")
CLASSES = ("hard", "soft", "none")
ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")


@dataclass(frozen=True, slots=True)
class Original:
    """Headers of the returned original message, when the report carries them."""

    message_id: str | None = None
    from_addr: str | None = None
    to: str | None = None
    subject: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One recipient inside a report, as the report states it (nothing inferred)."""

    address: str
    original_recipient: str | None = None
    action: str | None = None  # failed | delayed | delivered | relayed | expanded
    status: str | None = None  # RFC 3463 code, e.g. "5.1.1"
    reply_code: str | None = None  # SMTP reply code, e.g. "550"
    diagnostic: str | None = None  # the remote server's text (Diagnostic-Code without "smtp;")
    diagnostic_type: str | None = None  # "smtp", "x-unix", ...
    remote_mta: str | None = None
    last_attempt: datetime | None = None
    will_retry_until: datetime | None = None
    feedback_type: str | None = None  # ARF Feedback-Type, complaints only
    hint: str | None = None  # a reason the parser knows from the format itself, e.g. "vacation"
    command: str | None = None  # SMTP command the failure answered: RCPT, DATA, MAIL, CONN, HELO


@dataclass(frozen=True, slots=True)
class Report:
    """One received message, parsed: what kind of report it is and its recipients."""

    kind: str  # one of KINDS
    entries: tuple[Entry, ...] = ()
    reporting_mta: str | None = None
    arrival_date: datetime | None = None
    envelope_id: str | None = None  # Original-Envelope-Id
    original: Original = field(default_factory=Original)
    subject: str | None = None  # the report's own Subject
    sender: str | None = None  # the report's own From
    source: str | None = None  # which part of the message was read (for `bouncer explain`)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classification of one entry: class, reason, and the effective status code."""

    bounce_class: str  # hard | soft | none
    reason: str  # Sisimai reason name, lowercase
    status: str | None = None  # the entry's status, else the code the reason implies
