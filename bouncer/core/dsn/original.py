"""Headers of the returned original message: attached, headers-only or pasted inline."""

from __future__ import annotations

import re

from bouncer.core.dsn.caseless import Caseless
from bouncer.core.dsn.mime import ENCAPSULATED, Part, parse_headers
from bouncer.core.model import Original

MAX_BLOCKS = 8
_PASTED_START = Caseless(
    r"^(?:return-path|received|message-id|from|to|subject|date|mime-version|dkim-signature"
    r"|x-[A-Za-z\-]+|content-type):[ \t]",
    re.MULTILINE,
)


def returned_headers(root: Part) -> Part | None:
    """Return the header Part of the returned original message, when one is attached."""
    for part in root.walk():
        if part is root or part.ctype not in ENCAPSULATED or not part.children:
            continue
        child = part.children[0]
        if child.get("message-id") or child.get("subject") or child.get("from"):
            return child
    return None


def original_from_part(headers: Part) -> Original:
    """Build an Original from the header fields of the returned message."""
    return Original(
        message_id=_clean_id(headers.get("message-id")),
        from_addr=headers.decoded("from"),
        to=headers.decoded("to"),
        subject=headers.decoded("subject"),
        date=headers.get("date"),
    )


def pasted_headers(text: str) -> Part | None:
    """Return the header block of an original message pasted into a body text, if any."""
    position = 0
    for _ in range(MAX_BLOCKS):
        found = next(_PASTED_START.line_matches(text, position), None)
        if found is None:
            return None
        end = text.find("\n\n", found[0])
        end = len(text) if end < 0 else end
        headers = parse_headers(text[found[0] : end].encode("utf-8", "replace"))
        names = {name for name, _ in headers}
        if len(names & {"message-id", "subject", "from", "to", "date"}) >= 2:
            return Part(headers, b"")
        position = end
    return None


def find_original(root: Part, texts: list[str]) -> Original:
    """Return the returned message's headers from an attachment or a pasted copy."""
    attached = returned_headers(root)
    if attached is not None:
        return original_from_part(attached)
    for text in texts:
        pasted = pasted_headers(text)
        if pasted is not None:
            return original_from_part(pasted)
    return Original()


def _clean_id(value: str | None) -> str | None:
    """Return a Message-ID without surrounding whitespace (None when empty)."""
    if not value:
        return None
    return value.strip() or None
