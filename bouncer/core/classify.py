"""Classify one report entry: a reason (Sisimai's vocabulary), a class (hard/soft/none), a status.

The reason comes from, in order: what the parser knows from the format (`hint`), the report
kind (auto-reply, complaint, delivery), a reply the recipient's provider documents, then the
RFC 3463 status code and the diagnostic text weighed against each other
(`bouncer.core.rules.evidence`), then the bare SMTP reply code, then the action. The class follows
from the reason alone (`class_of`). Pass a list as `steps` to have every rule that spoke noted
in it (`bouncer explain`). Everything here is pure and compiled once at import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bouncer.core.model import Entry, Verdict
from bouncer.core.rules.codes import reply_reason
from bouncer.core.rules.evidence import GREETING_COMMANDS, Steps, note, read_evidence
from bouncer.core.rules.matcher import normalise
from bouncer.core.rules.providers import provider_reason
from bouncer.core.rules.regex_cache import pattern

HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved"})
NOT_FAILURES = frozenset({"delivered", "feedback", "vacation"})
KIND_REASONS = {"autoreply": "vacation", "complaint": "feedback", "delivered": "delivered"}
DELIVERED_ACTIONS = frozenset({"delivered", "relayed", "expanded"})
_STATUS_IN_TEXT = pattern(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?!\d|\.\d)")
_CODE_IN_TEXT = pattern(r"(?<![\d.])([245])(?:\.\d{1,3}\.\d{1,3}(?!\d|\.\d)|\d\d(?![\d.]))")
_TEMPORARY_WORDS = pattern(r" temporar| persistent|retry timeout exceeded", re.IGNORECASE)


def verdict(
    entry: Entry,
    kind: str,
    class_overrides: Mapping[str, str] | None = None,
    *,
    reporting_mta: str | None = None,
    steps: Steps = None,
) -> Verdict:
    """Return the Verdict for one entry of a report of the given kind (and reporting host)."""
    reason = find_reason(entry, kind, reporting_mta, steps)
    temporary = is_temporary(entry)
    bounce_class = class_of(reason, temporary)
    if class_overrides and reason in class_overrides:
        bounce_class = class_overrides[reason]
        note(steps, "class override", bounce_class, f"classify.class_overrides.{reason}")
    else:
        note(steps, "class", bounce_class, reason, why=class_rule(reason, temporary))
    return Verdict(bounce_class, reason, effective_status(entry, reason))


def class_of(reason: str, temporary: bool) -> str:
    """Return hard, soft or none for a reason: the one place the hard/soft rule lives."""
    if reason in NOT_FAILURES:
        return "none"
    if reason in HARD_REASONS:
        return "hard"
    if reason == "notaccept":
        return "soft" if temporary else "hard"
    return "soft"


def class_rule(reason: str, temporary: bool) -> str:
    """Return, in words, why a reason has its class (for `bouncer explain`)."""
    if reason in NOT_FAILURES:
        return "not a failure"
    if reason in HARD_REASONS:
        return "the address itself is bad: stop sending (userunknown, hostunknown, hasmoved)"
    if reason == "notaccept":
        return "the domain accepts no mail" + (", for now" if temporary else " (null MX)")
    return "temporary or about the sender or the message: retry, track"


def find_reason(
    entry: Entry, kind: str, reporting_mta: str | None = None, steps: Steps = None
) -> str:
    """Return the reason for an entry: format hint, report kind, then the failure evidence."""
    if entry.hint:
        note(steps, "format", entry.hint, "the report's format says so")
        return entry.hint
    if kind in KIND_REASONS:
        note(steps, "report kind", KIND_REASONS[kind], kind)
        return KIND_REASONS[kind]
    if entry.action in DELIVERED_ACTIONS or (entry.status or "").startswith("2."):
        note(steps, "action", "delivered", entry.action or entry.status)
        return "delivered"
    return failure_reason(entry, kind, reporting_mta, steps)


def failure_reason(
    entry: Entry, kind: str, reporting_mta: str | None = None, steps: Steps = None
) -> str:
    """Return the reason for a failed or delayed entry from its status, text, code and action."""
    text = normalise(entry.diagnostic) if entry.diagnostic else ""
    diagnostic_type = (entry.diagnostic_type or "smtp").lower()
    status = entry.status or status_in_text(entry.diagnostic)
    documented = provider_reason(
        entry.address,
        entry.remote_mta,
        text,
        status=status,
        command=entry.command,
        reporting_mta=reporting_mta,
        steps=steps,
    )
    if documented:
        return documented
    chosen = read_evidence(text, status, diagnostic_type, entry.command, steps)
    if chosen:
        return chosen
    return _fallback(entry, kind, diagnostic_type, steps)


def _fallback(entry: Entry, kind: str, diagnostic_type: str, steps: Steps) -> str:
    """Return the reason when neither the text nor the status named one."""
    if diagnostic_type.startswith("x-unix"):
        reason, read = "mailererror", "a local delivery program failed"
    elif reply_reason(entry.reply_code):
        reason, read = reply_reason(entry.reply_code), f"reply code {entry.reply_code}"
    elif entry.action == "delayed" or kind == "delay":
        reason, read = "expired", "still undelivered"
    elif entry.command in GREETING_COMMANDS:
        reason, read = "blocked", f"refused at {entry.command}, before any address"
    else:
        reason, read = "undefined", "nothing names a reason"
    note(steps, "fallback", reason, read)
    return reason


def status_in_text(diagnostic: str | None) -> str | None:
    """Return the first RFC 3463 status code written in a diagnostic text, or None."""
    found = _STATUS_IN_TEXT.search(diagnostic) if diagnostic else None
    return found.group(0) if found else None


def is_temporary(entry: Entry) -> bool:
    """Return True when the entry reads as a temporary failure (4xx code or wording)."""
    for code in (entry.status, entry.reply_code):
        if code:
            return code.startswith("4")
    if entry.diagnostic:
        found = _CODE_IN_TEXT.search(entry.diagnostic)
        if found:
            return found.group(1) == "4"
        if _TEMPORARY_WORDS.search(entry.diagnostic):
            return True
    return entry.action == "delayed"


def effective_status(entry: Entry, reason: str) -> str | None:
    """Return the RFC 3463 code the report states, or the one its remote reply states, else None.

    Only codes someone can look up in RFC 3463 / the IANA registry: no analyser's internal
    pseudo codes (Sisimai's x.0.9xx), which `bouncer explain` may mention as a detail.
    """
    if entry.status:
        return entry.status
    if reason in NOT_FAILURES:
        return None
    written = status_in_text(entry.diagnostic)
    return written if written and written[0] in "45" else None
