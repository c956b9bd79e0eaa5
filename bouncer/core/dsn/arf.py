"""RFC 5965 abuse reports (ARF) and Microsoft-style complaint mails."""

from __future__ import annotations

import re

from bouncer.core.dsn.fields import decode_address, field_blocks, find_addresses, fold, parse_date
from bouncer.core.dsn.mime import Part, part_text
from bouncer.core.model import Entry, Original, Report
from bouncer.core.rules.regex_cache import pattern

FEEDBACK_TYPE = "message/feedback-report"
# Placeholder recipient shared with other bounce analysers when a report names none;
# the .invalid top-level domain guarantees it can never be a real mailbox.
UNDISCLOSED = "undisclosed-recipient-in-headers@libsisimai.org.invalid"
_MICROSOFT_FROM = pattern(r"staff@hotmail\.com|complaints@email-abuse\.amazonses\.com", re.I)
_MICROSOFT_SUBJECT = pattern(r"complaint about message from", re.I)


def feedback_part(root: Part) -> Part | None:
    """Return the first message/feedback-report part of a message, if any."""
    return next((part for part in root.walk() if part.ctype == FEEDBACK_TYPE), None)


def is_microsoft_complaint(root: Part) -> bool:
    """Tell whether a message is a Microsoft/SES-style complaint without a feedback part."""
    sender = root.get("from") or ""
    subject = root.get("subject") or ""
    return bool(_MICROSOFT_FROM.search(sender) and _MICROSOFT_SUBJECT.search(subject))


def complaint_report(root: Part, part: Part | None, original: Original, texts: list[str]) -> Report:
    """Build the complaint Report from a feedback-report part (or none, Microsoft style)."""
    fields = [pair for block in field_blocks(part_text(part)) for pair in block] if part else []
    values = _collect(fields)
    feedback_type = (values.get("feedback-type") or ["abuse"])[0].lower().split()[0]
    recipients = _recipients(values, original) if part else _microsoft_recipients(root)
    diagnostic = fold(_first_line(texts))
    entries = tuple(
        Entry(
            address=address,
            action="failed",
            diagnostic=diagnostic,
            feedback_type=feedback_type,
            hint="feedback",
        )
        for address in recipients or [UNDISCLOSED]
    )
    reporting = values.get("reporting-mta")
    return Report(
        kind="complaint",
        entries=entries,
        reporting_mta=reporting[0].split(";")[-1].strip() if reporting else None,
        arrival_date=parse_date(_one(values, "arrival-date") or _one(values, "received-date")),
        envelope_id=_one(values, "original-envelope-id"),
        original=original,
        source="the feedback-report part (RFC 5965)",
    )


def _collect(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Group field values by name."""
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    return values


def _one(values: dict[str, list[str]], name: str) -> str | None:
    """Return the first value of a field, or None."""
    found = values.get(name)
    return found[0] if found else None


def _recipients(values: dict[str, list[str]], original: Original) -> list[str]:
    """Return the complained-of recipients: Original-Rcpt-To, else the original's To."""
    found = []
    for value in values.get("original-rcpt-to", []):
        address = decode_address("rfc822", value.split(";")[-1])
        if "@" in address and not address.endswith("@"):
            found.append(address)
    if found:
        return found
    return find_addresses(original.to or "")[:1]


def _microsoft_recipients(root: Part) -> list[str]:
    """Return the complaining recipient Outlook.com names in the returned message's
    `X-HmXmrOriginalRecipient` header (its JMRP complaints carry no feedback part)."""
    for part in root.walk():
        value = part.get("x-hmxmroriginalrecipient")
        if value:
            return find_addresses(value)[:1]
    return []


def _first_line(texts: list[str]) -> str | None:
    """Return the first non-empty line of the human-readable part."""
    for text in texts:
        for line in text.split("\n"):
            if line.strip():
                return line
    return None
