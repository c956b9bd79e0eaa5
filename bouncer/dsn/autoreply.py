"""RFC 3834 automatic replies: vacation, out-of-office and challenge-response mail."""

from __future__ import annotations

import re

from bouncer.dsn.fields import find_addresses, fold
from bouncer.dsn.mime import Part
from bouncer.model import Entry

_AUTO_SUBMITTED = re.compile(r"^\s*auto-(?:replied|generated|notified)", re.I)
_SUPPRESS = re.compile(r"\b(?:oof|autoreply|all)\b", re.I)
_PRECEDENCE = re.compile(r"^\s*auto[_-]reply\b", re.I)
_FLAG_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from")
_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort|respuesta|risposta)"
    r"|auto:|autoreply|autoresponse|out of (?:the )?office|ooo\b|on vacation|vacation"
    r"|away from (?:the )?office|abwesenheitsnotiz|abwesend|absence|r[ée]ponse automatique"
    r"|respuesta autom[áa]tica|fuera de la oficina|risposta automatica|fuori sede"
    r"|resposta autom[áa]tica|automatisch antwoord|afwezig|automatyczna odpowied"
    r"|自動応答|自動返信|不在|自动回复|자동 응답|i am out of|i'm out of|challenge"
    r"|please confirm your (?:message|e-?mail)|verify your (?:message|e-?mail))",
    re.I,
)
_SYSTEM_SENDER = re.compile(r"(?:mailer-daemon|postmaster|root)@", re.I)
_EXCLUDED_SUBJECT = re.compile(r"security information for|mail failure -", re.I)


def is_autoreply(root: Part) -> bool:
    """Tell whether the top-level headers mark the message as an automatic reply."""
    if _SYSTEM_SENDER.search(root.get("from") or ""):
        return False
    if _EXCLUDED_SUBJECT.search(root.get("subject") or ""):
        return False
    if _AUTO_SUBMITTED.search(root.get("auto-submitted") or ""):
        return True
    if _PRECEDENCE.search(root.get("precedence") or ""):
        return True
    if _SUPPRESS.search(root.get("x-auto-response-suppress") or ""):
        return True
    return any(root.get(name) is not None for name in _FLAG_HEADERS)


def has_autoreply_subject(subject: str | None) -> bool:
    """Tell whether a subject reads like an automatic reply, in one of several languages."""
    return bool(subject and _SUBJECT.search(subject))


def autoreply_entry(root: Part, body_text: str, subject: str | None) -> Entry | None:
    """Return the entry for the auto-replier (the From address), None when unknown."""
    for name in ("from", "reply-to", "return-path", "sender"):
        addresses = find_addresses(root.get(name) or "")
        if addresses:
            return Entry(
                address=addresses[0],
                diagnostic=first_lines(body_text) or fold(subject),
                hint="vacation",
            )
    return None


def first_lines(text: str, limit: int = 5) -> str | None:
    """Return the first few non-empty lines of a reply body, folded into one line."""
    lines = [line for line in text.split("\n") if line.strip()][:limit]
    return fold(" ".join(lines))
