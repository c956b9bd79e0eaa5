"""RFC 3464 / RFC 6533 delivery-status parts turned into entries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bouncer.dsn.fields import (
    decode_address,
    field_blocks,
    find_reply_code,
    find_status,
    first,
    fold,
    parse_date,
    preferred_status,
    typed_value,
)
from bouncer.dsn.mime import Part, part_text
from bouncer.model import Entry
from bouncer.rules.regex_cache import pattern

STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
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
    """Read the fields of delivery-status parts into one StatusReport."""
    per_message: dict[str, str] = {}
    entries: list[Entry] = []
    for part in parts:
        for block in field_blocks(part_text(part)):
            entry = entry_from_block(block)
            if entry is not None:
                entries.append(entry)
            for name in ("reporting-mta", "arrival-date", "original-envelope-id"):
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


def entry_from_block(block: list[tuple[str, str]]) -> Entry | None:
    """Build an Entry from one per-recipient block (None when it names no recipient)."""
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


_VENDOR_REPLY = pattern(r"(?:smtp|x-[\w-]+)\s*;\s*(.+?)\s*>?\s*$", re.IGNORECASE | re.DOTALL)


def _vendor_reply(block: list[tuple[str, str]]) -> str | None:
    """Return the remote reply an X- field of the block carries (after 'smtp;'), if any."""
    for name, value in block:
        if not name.startswith("x-") or not (find_reply_code(value) or find_status(value)):
            continue
        found = _VENDOR_REPLY.search(value)
        return found.group(1) if found else value.strip("<> ")
    return None


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
