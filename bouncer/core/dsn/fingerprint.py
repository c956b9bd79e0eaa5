"""A report's fingerprint: the same report delivered twice gets the same one (pure).

An MTA that did not see our 250 (a dropped connection after DATA) sends the same report again,
and a relay on the way may add trace headers to it. The fingerprint covers what stays the same:
the report's own Message-ID (RFC 5322 §3.6.4: unique per message) and its body after the header
block, so two different reports that reuse a Message-ID are still told apart.
"""

from __future__ import annotations

import hashlib
import re

from bouncer.core.rules.regex_cache import pattern

_HEADER_END = pattern(rb"\r?\n\r?\n")
_MESSAGE_ID = pattern(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def fingerprint(raw: bytes) -> str:
    """Return a hex SHA-256 over the report's Message-ID and body (whole message without)."""
    end = _HEADER_END.search(raw)
    header, body = (raw[: end.start()], raw[end.end() :]) if end else (raw, b"")
    found = _MESSAGE_ID.search(header)
    message_id = b"".join(found.group(1).split()) if found else b""
    if not message_id:
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(message_id + b"\0" + body).hexdigest()
