"""Put the readers together: from raw bytes to a Report."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from bouncer.core.dsn import arf, autoreply, combine, heuristics, ses, standard
from bouncer.core.dsn.fields import find_addresses, parse_date
from bouncer.core.dsn.limits import MAX_DIAGNOSTIC, MAX_RECIPIENTS
from bouncer.core.dsn.mime import ENCAPSULATED, Part, parse_message, part_text
from bouncer.core.dsn.original import find_original
from bouncer.core.model import Entry, Original, Report
from bouncer.core.rules.regex_cache import pattern

# A text part that is only the returned message's headers (attached as text/plain).
_HEADER_DUMP = pattern(
    r"\s*(?:[A-Za-z][A-Za-z0-9\-]*:[ \t][^\n]*\n(?:[ \t][^\n]*\n)*){3,}"
    r"(?:[^\n]*\n)*?(?:Received|Message-I[Dd]|Date):",
)
_TAG = pattern(r"<[^>]*>")
_HTML_BREAK = pattern(r"<\s*(?:br|/p|/div|/tr|/li|p|div|tr)\b[^>]*>", re.I)


def body_texts(root: Part) -> list[str]:
    """Return the decoded human-readable text parts, outside any returned message."""
    texts: list[str] = []
    stack = [root]
    while stack:
        part = stack.pop()
        if part.ctype in ENCAPSULATED or part.ctype in standard.STATUS_TYPES:
            continue
        if part.children:
            stack.extend(reversed(part.children))
        elif part.ctype.startswith(("text/", "multipart/")) or part.ctype == "message/partial":
            text = _plain(part)
            if not _HEADER_DUMP.match(text[:3000]):
                texts.append(text)
    return texts


def _plain(part: Part) -> str:
    """Return a text part as plain text (HTML tags removed)."""
    text = part_text(part)
    if part.ctype == "text/html":
        text = html.unescape(_closed_sub(_TAG, "", _closed_sub(_HTML_BREAK, "\n", text)))
    return text


def _closed_sub(tag: re.Pattern[str], replacement: str, text: str) -> str:
    """Return re.sub of a tag pattern (which ends at ">") over the text, searching only up to
    the last ">": after it no tag can end, and every "<" there would be scanned to the text's
    end, once per "<" (quadratic for a long run of "<" without ">")."""
    last = text.rfind(">") + 1
    return tag.sub(replacement, text[:last]) + text[last:]


def read(raw: bytes) -> Report:
    """Parse a raw message into a Report (may raise on hostile input)."""
    root = parse_message(raw)
    texts = body_texts(root)
    original = find_original(root, texts)
    found = (
        (_autoreply(root, texts) if autoreply.is_challenge(root) else None)
        or _standard(root, texts)
        or _complaint(root, original, texts)
        or ses.ses_report(texts)
        or heuristics.bounce_report(root, texts, raw)
        or _autoreply(root, texts)
        or Report(kind="unknown")
    )
    return _finish(found, root, original)


def _standard(root: Part, texts: list[str]) -> Report | None:
    """Return the Report of a message with RFC 3464 delivery-status parts, if any."""
    parts = standard.status_parts(root)
    if not parts:
        return None
    status = standard.read_status_parts(parts)
    if not status.entries:
        return None
    entries = status.entries
    if any(combine.needs_text(entry) for entry in entries):
        entries = combine.fill_from_text(entries, texts, heuristics.own_addresses(root))
    entries = combine.add_commands(entries, texts)
    if all((entry.diagnostic_type or "") in autoreply.CHALLENGE_TYPES for entry in entries):
        held = tuple(replace(entry, action=None, hint="vacation") for entry in entries)
        return Report(kind="autoreply", entries=held, source="a challenge-response notice")
    return Report(
        kind=standard.kind_of_entries(entries),
        entries=entries,
        reporting_mta=status.reporting_mta,
        arrival_date=parse_date(status.arrival_date),
        envelope_id=status.envelope_id,
        source="the delivery-status part (RFC 3464)",
    )


def _complaint(root: Part, original: Original, texts: list[str]) -> Report | None:
    """Return the complaint Report of an ARF message, if it is one."""
    part = arf.feedback_part(root)
    if part is None and not arf.is_microsoft_complaint(root):
        return None
    return arf.complaint_report(root, part, original, texts)


def _autoreply(root: Part, texts: list[str]) -> Report | None:
    """Return the autoreply Report of an automatic reply, if it is one."""
    subject = root.decoded("subject")
    if not (autoreply.is_autoreply(root) or autoreply.has_autoreply_subject(subject)):
        return None
    entry = autoreply.autoreply_entry(root, texts[0] if texts else "", subject)
    return Report(
        kind="autoreply",
        entries=(entry,) if entry else (),
        source="the headers of an automatic reply (RFC 3834)",
    )


def _finish(found: Report, root: Part, original: Original) -> Report:
    """Fill the report's own subject, sender and returned original into a Report."""
    senders = find_addresses(root.decoded("from") or "")
    return Report(
        kind=found.kind,
        entries=_bounded(found.entries),
        reporting_mta=found.reporting_mta,
        arrival_date=found.arrival_date,
        envelope_id=found.envelope_id,
        original=found.original if found.original != Original() else original,
        subject=root.decoded("subject"),
        sender=senders[0] if senders else root.decoded("from"),
        source=found.source,
    )


def _bounded(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """Return the first MAX_RECIPIENTS entries, diagnostics cut at MAX_DIAGNOSTIC characters."""
    return tuple(
        replace(entry, diagnostic=entry.diagnostic[:MAX_DIAGNOSTIC])
        if entry.diagnostic and len(entry.diagnostic) > MAX_DIAGNOSTIC
        else entry
        for entry in entries[:MAX_RECIPIENTS]
    )
