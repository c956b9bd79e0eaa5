"""RFC 3464 / RFC 6533 delivery-status parts turned into entries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bouncer.core.dsn.fields import (
    decode_address,
    find_reply_code,
    find_status,
    first,
    fold,
    iter_field_blocks,
    parse_date,
    preferred_status,
    typed_value,
)
from bouncer.core.dsn.limits import MAX_FIELD, MAX_RECIPIENTS
from bouncer.core.dsn.mime import Part, part_text
from bouncer.core.model import Entry
from bouncer.core.rules.regex_cache import pattern

STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_PER_MESSAGE = ("reporting-mta", "arrival-date", "original-envelope-id")
RECIPIENT_FIELDS = ("final-recipient", "original-recipient", "x-actual-recipient")


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The per-message fields and the per-recipient entries of delivery-status parts."""

    reporting_mta: str | None
    arrival_date: str | None
    envelope_id: str | None
    entries: tuple[Entry, ...]


def status_parts(root: Part) -> list[Part]:
    """Return every delivery-status part of a message, in order."""
    return [part for part in root.walk() if part.ctype in STATUS_TYPES]


def read_status_parts(parts: list[Part]) -> StatusReport:
    """Read the fields of delivery-status parts into one StatusReport (the first
    MAX_RECIPIENTS recipient blocks)."""
    per_message: dict[str, str] = {}
    entries: list[Entry] = []
    for part in parts:
        text = part_text(part)
        for block in iter_field_blocks(text):
            if len(entries) < MAX_RECIPIENTS:
                entry = entry_from_block(block)
                if entry is not None:
                    entries.append(entry)
            elif _read_enough(per_message, text):
                break
            for name in _PER_MESSAGE:
                value = first(block, name)
                if value:
                    per_message.setdefault(name, value)
    mta = per_message.get("reporting-mta")
    return StatusReport(
        reporting_mta=typed_value(mta)[1] if mta else None,
        arrival_date=per_message.get("arrival-date"),
        envelope_id=per_message.get("original-envelope-id"),
        entries=tuple(entries),
    )


def _read_enough(per_message: dict[str, str], text: str) -> bool:
    """Tell whether the rest of a part can add nothing once the entries are all read: each
    per-message field is found already, or its name is nowhere in the text."""
    lowered = text.lower() if len(per_message) < len(_PER_MESSAGE) else ""
    return all(name in per_message or name not in lowered for name in _PER_MESSAGE)


def entry_from_block(block: list[tuple[str, str]]) -> Entry | None:
    """Build an Entry from one per-recipient block (None when it names no recipient; values
    are read up to MAX_FIELD characters)."""
    block = [(name, value[:MAX_FIELD]) for name, value in block]
    recipient = next((first(block, name) for name in RECIPIENT_FIELDS if first(block, name)), None)
    if recipient is None:
        return None
    address = decode_address(*typed_value(recipient))
    if "@" not in address and not address:
        return None
    original = first(block, "original-recipient")
    original_address = decode_address(*typed_value(original)) if original else None
    if original_address and is_routable(original_address) and not is_routable(address):
        address = original_address  # an internal delivery name: the report names a real one
    diagnostic_type, diagnostic = diagnostic_of(block)
    reply_code = find_reply_code(diagnostic)
    status = preferred_status(
        find_status(first(block, "status")), find_status(diagnostic), reply_code
    )
    remote = first(block, "remote-mta")
    return Entry(
        address=address,
        original_recipient=original_address,
        action=action_of(first(block, "action")),
        status=status,
        reply_code=reply_code,
        diagnostic=diagnostic,
        diagnostic_type=diagnostic_type,
        remote_mta=typed_value(remote)[1] or None if remote else None,
        last_attempt=parse_date(first(block, "last-attempt-date")),
        will_retry_until=parse_date(first(block, "will-retry-until")),
    )


def diagnostic_of(block: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """Return the diagnostic type and the folded text of a block's Diagnostic-Code.

    When the Diagnostic-Code is missing or carries no reply code, a vendor field of the same
    recipient block may hold the remote reply (Exchange: `X-Supplementary-Info: <host #5.0.0
    smtp;550 "Unknown User">`); its reply is used then. Nothing comes from another block.
    """
    value = first(block, "diagnostic-code")
    kind, text = typed_value(value) if value else (None, "")
    if find_reply_code(text) or find_status(text):
        return kind, fold(text)
    vendor = _vendor_reply(block)
    if vendor is None:
        return (kind, fold(text)) if value else (None, None)
    return kind or "smtp", fold(f"{text} {vendor}".strip())


# The remote reply in a vendor field: after "smtp;" or "x-<type>;" (the first such place), up
# to a closing ">" and white space at the end (at least one character). Found in two steps, not
# by one pattern `(?:smtp|x-[\w-]+)\s*;\s*(.+?)\s*>?\s*$`, which costs quadratic time on a
# long run of word characters without ";" (tried from every "x-" in it) and on a long run of
# white space (tried at every character before it); the answer is the same.
_SMTP_TYPE = pattern(r"smtp\s*;", re.IGNORECASE)
_WORD_RUN_TYPE = pattern(r"(?<![\w-])([\w-]+)\s*;", re.IGNORECASE)  # from a run's start only
_X_TYPE = pattern(r"x-(?=[\w-])", re.IGNORECASE)


def _vendor_reply(block: list[tuple[str, str]]) -> str | None:
    """Return the remote reply an X- field of the block carries (after 'smtp;'), if any."""
    for name, value in block:
        if not name.startswith("x-") or not (find_reply_code(value) or find_status(value)):
            continue
        found = _typed_reply(value)
        return found if found is not None else value.strip("<> ")
    return None


def _typed_reply(value: str) -> str | None:
    """Return the text after the first "smtp;" or "x-<type>;" of a value, without a closing
    ">" and white space at its end (None when there is none)."""
    semicolon = _type_end(value)
    if semicolon is None or semicolon + 1 >= len(value):
        return None
    rest = value[semicolon + 1 :]
    start = min(len(rest) - len(rest.lstrip()), len(rest) - 1)
    end = len(rest.rstrip())
    if end and rest[end - 1] == ">":
        end = len(rest[: end - 1].rstrip())
    return rest[start : max(start + 1, end)]


def _type_end(value: str) -> int | None:
    """Return where the ";" of the first "smtp;" or "x-<type>;" is (x-<type> runs to the end of
    its run of word characters and dashes)."""
    smtp = _SMTP_TYPE.search(value)
    for run in _WORD_RUN_TYPE.finditer(value, 0, smtp.start() if smtp else len(value)):
        if _X_TYPE.search(value, run.start(1), run.end(1)):
            return run.end() - 1
    return smtp.end() - 1 if smtp else None


def is_routable(address: str) -> bool:
    """Tell whether an address has a local part and a domain with a dot (not 'f.b', not
    'user@sims-ms-daemon', an internal delivery name a gateway wrote as Final-Recipient)."""
    local, at, domain = address.rpartition("@")
    return bool(at and local and "." in domain.strip(".[]"))


def action_of(value: str | None) -> str | None:
    """Return the lower-case action keyword of an Action field."""
    if not value:
        return None
    words = value.strip().lower().split()
    return words[0].strip(";,.") if words else None


def kind_of_entries(entries: tuple[Entry, ...]) -> str:
    """Return the report kind the recipients' actions and status classes imply."""
    actions = {entry.action for entry in entries}
    classes = {(entry.status or " ")[0] for entry in entries}
    if "failed" in actions or (None in actions and "5" in classes):
        return "bounce"
    if "delayed" in actions:
        return "delay"
    if actions and actions <= {"delivered", "relayed", "expanded"}:
        return "delivered"
    if classes == {"2"}:
        return "delivered"
    return "bounce"
