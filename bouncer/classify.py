"""Classify one report entry: a reason (Sisimai's vocabulary), a class (hard/soft/none), a status.

The reason comes from, in order: what the parser knows from the format (`hint`), the report
kind (auto-reply, complaint, delivery), a reply the recipient's provider documents, then the
RFC 3463 status code and the diagnostic text weighed against each other, then the bare SMTP
reply code, then the action. "User unknown"
wording counts as `userunknown` only with a status that says so (x.1.x) or a sign that the
address itself was refused (the reply answered RCPT TO, or a directory lookup failed); after
DATA, or with no command known, the refusal may have come from a filter that read the message,
and the reason is `filtered` (soft), as in the reference analyser. Everything here is pure and
compiled once at import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bouncer.model import Entry, Verdict
from bouncer.rules.codes import WEAK_STATUS_REASONS, reply_reason, status_reason
from bouncer.rules.matcher import PhraseMatcher, normalise
from bouncer.rules.phrases import ENGLISH, GENERIC, REASON_ORDER
from bouncer.rules.phrases_intl import INTERNATIONAL
from bouncer.rules.providers import provider_reason

HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved"})
NOT_FAILURES = frozenset({"delivered", "feedback", "vacation"})
KIND_REASONS = {"autoreply": "vacation", "complaint": "feedback", "delivered": "delivered"}
DELIVERED_ACTIONS = frozenset({"delivered", "relayed", "expanded"})

# Reasons a text can name when the diagnostic did not come from an SMTP server (x-unix,
# x-postfix ...): problems of the reporting system itself, never the recipient's address.
LOCAL_REASONS = frozenset(
    {
        "mailboxfull", "authfailure", "badreputation", "speeding", "spamdetected",
        "virusdetected", "policyviolation", "norelaying", "systemerror", "networkerror",
        "suspend", "contenterror", "systemfull", "notaccept", "expired", "securityerror",
        "mailererror",
    }
)  # fmt: skip
# (status reason, text reason) pairs where plain precedence gets it wrong: a block list hit
# behind a 5.1.x code, and "user unknown" behind a mailbox-status code (x.2.x).
PAIR_WINNERS = {
    ("userunknown", "blocked"): "blocked",
    ("filtered", "userunknown"): "filtered",
    ("suspend", "speeding"): "speeding",  # Gmail's 4.2.1 "receiving mail at a rate"
    ("suspend", "mailboxfull"): "mailboxfull",
    ("contenterror", "notcompliantrfc"): "contenterror",  # X.6.x names the content fault
}
# Reasons about the recipient's address or mailbox: in a reply that says the *sender* was
# refused ("Sender address rejected: mailbox disabled") they describe the sender.
RECIPIENT_SIDE_REASONS = frozenset(
    {"userunknown", "hostunknown", "mailboxfull", "suspend", "filtered", "hasmoved"}
)
_SENDER_REFUSED = re.compile(
    r"sender (?:address |domain )?(?:rejected|refused|denied|not allowed)|envelope sender"
    r"|badmailfrom|mail from (?:rejected|refused)"
)
# Commands answered before the client named a sender or a recipient.
GREETING_COMMANDS = frozenset({"CONN", "HELO", "EHLO", "STARTTLS", "AUTH"})
# Signs in the text of the command a reply answered, when the entry does not say.
_AFTER_DATA = re.compile(r"end of data|after (?:end of )?data|data command|after the message")
_AT_RCPT = re.compile(r"rcpt to|rcpt command|recipient address rejected")
# Wording that names a lookup of the address that found nothing: the address itself.
_LOOKUP_FAILED = re.compile(
    r"not listed in|(?:couldn't|could not|can't|cannot) be found|(?:wasn't|was not) found"
    r"|(?:is )?not recogni[sz]ed"
)
# What a local delivery program's failure (x-unix) can be besides a mailer error.
X_UNIX_REASONS = frozenset({"mailboxfull", "mesgtoobig", "exceedlimit", "suspend", "mailererror"})
MATCHER = PhraseMatcher(
    [(reason, ENGLISH.get(reason, ()) + INTERNATIONAL.get(reason, ())) for reason in REASON_ORDER]
    + list(GENERIC),
    generic_from=len(REASON_ORDER),
)
_STATUS_IN_TEXT = re.compile(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?!\d|\.\d)")
_CODE_IN_TEXT = re.compile(r"(?<![\d.])([245])(?:\.\d{1,3}\.\d{1,3}(?!\d|\.\d)|\d\d(?![\d.]))")
_TEMPORARY_WORDS = re.compile(r" temporar| persistent|retry timeout exceeded", re.IGNORECASE)


def verdict(
    entry: Entry,
    kind: str,
    class_overrides: Mapping[str, str] | None = None,
    *,
    reporting_mta: str | None = None,
) -> Verdict:
    """Return the Verdict for one entry of a report of the given kind (and reporting host)."""
    reason = find_reason(entry, kind, reporting_mta)
    temporary = is_temporary(entry)
    bounce_class = class_of(reason, temporary)
    if class_overrides and reason in class_overrides:
        bounce_class = class_overrides[reason]
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


def find_reason(entry: Entry, kind: str, reporting_mta: str | None = None) -> str:
    """Return the reason for an entry: format hint, report kind, then the failure evidence."""
    if entry.hint:
        return entry.hint
    if kind in KIND_REASONS:
        return KIND_REASONS[kind]
    if entry.action in DELIVERED_ACTIONS or (entry.status or "").startswith("2."):
        return "delivered"
    return failure_reason(entry, kind, reporting_mta)


def failure_reason(entry: Entry, kind: str, reporting_mta: str | None = None) -> str:
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
    )
    if documented:
        return documented
    chosen = read_evidence(text, status, diagnostic_type, entry.command)
    if chosen:
        return chosen
    if diagnostic_type.startswith("x-unix"):
        return "mailererror"
    from_reply = reply_reason(entry.reply_code)
    if from_reply:
        return from_reply
    if entry.action == "delayed" or kind == "delay":
        return "expired"
    if entry.command in GREETING_COMMANDS:
        return "blocked"  # refused before any address was given: the client itself
    return "undefined"


def status_in_text(diagnostic: str | None) -> str | None:
    """Return the first RFC 3463 status code written in a diagnostic text, or None."""
    found = _STATUS_IN_TEXT.search(diagnostic) if diagnostic else None
    return found.group(0) if found else None


def read_evidence(
    text: str, status: str | None, diagnostic_type: str, command: str | None = None
) -> str | None:
    """Return the reason the diagnostic text, the status code and the command name together."""
    allowed = LOCAL_REASONS
    if diagnostic_type == "smtp":
        allowed = None
    elif diagnostic_type.startswith("x-unix"):
        allowed = X_UNIX_REASONS
    from_text, generic = MATCHER.find_with_strength(text, allowed)
    if from_text in RECIPIENT_SIDE_REASONS and _SENDER_REFUSED.search(text):
        from_text, generic = "rejected", False
    from_status = status_reason(status)
    if from_text and allowed is not None:
        return from_text  # a local failure: the reporting system's words beat its status code
    if generic and from_status and from_status != "securityerror":
        return from_status  # broad words lose to any status code but the vague x.7.x one
    chosen = weigh(from_text, from_status)
    if from_text == "userunknown" and chosen in ("userunknown", "filtered", "suspend"):
        if command is None and _LOOKUP_FAILED.search(text):
            return "userunknown"
        return unknown_user_reason(from_status, command or _command_in_text(text), status)
    return chosen


def _command_in_text(text: str) -> str | None:
    """Return the command a diagnostic text says its reply answered (DATA or RCPT), if any."""
    if _AFTER_DATA.search(text):
        return "DATA"
    return "RCPT" if _AT_RCPT.search(text) else None


def unknown_user_reason(
    from_status: str | None, command: str | None, status: str | None = None
) -> str:
    """Return the reason for "unknown user" wording, from the command it answered.

    Refused at RCPT TO, the address itself was refused (userunknown). A status that says the
    mailbox exists but is disabled (X.2.1, RFC 3463) decides otherwise (suspend); after DATA
    a filter that read the message may have said it (filtered). With no command known:
    a report whose only status is the generic X.0.0 is decided by the remote reply it carries
    (userunknown); a report with no status at all, or one naming another subject, stays
    filtered, as the reference analyser reads it (carriers' filters answer that way).
    """
    if command == "RCPT" or from_status == "userunknown":
        return "userunknown"
    if from_status == "suspend":
        return "suspend"
    if command in GREETING_COMMANDS:
        return "blocked"
    if command == "MAIL":
        return "rejected"
    generic = bool(status) and status[1:] == ".0.0"
    return "userunknown" if command is None and generic else "filtered"


def weigh(from_text: str | None, from_status: str | None) -> str | None:
    """Return the reason to keep when the text and the status code each suggest one (or none)."""
    if from_text is None or from_text == from_status:
        return from_status if from_text is None else from_text
    if (from_status, from_text) in PAIR_WINNERS:
        return PAIR_WINNERS[from_status, from_text]
    if from_status is None or from_status in WEAK_STATUS_REASONS:
        return from_text
    return min(from_text, from_status, key=MATCHER.rank)


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
