"""RFC 3464 / RFC 6533 field blocks and the small values inside them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bouncer.dsn.status_choice import find_status, preferred_status
from bouncer.rules.regex_cache import pattern

__all__ = ["find_status", "preferred_status"]  # re-exported: where callers look for them

_REPLY = pattern(r"(?<![\w.\-/:#=+])([245][0-5]\d)(?=[\-\]:;,]|\s+\S)(?!:\d)")
_LEADING_REPLY = pattern(r"^\s*([245][0-5]\d)(?:[\s\-]|$)")
_XTEXT = pattern(r"\+([0-9A-Fa-f]{2})")
_UTF8_XTEXT = pattern(r"\\x\{([0-9A-Fa-f]{1,6})\}")
_COMMENT = pattern(r"\([^()]*\)")
# An address starts where a token starts (never inside a word a keyword pattern ran into:
# "userid: userx@..." must not yield "x@...") and has a domain of letters, digits, dots, dashes.
# (A file path such as "/home/u/.forward@host" is no address either.)
# (Full-width punctuation of CJK text, "收件人：x@y", delimits like its ASCII form.)
ADDRESS_PATTERN = (
    r"(?<![^\s<>()\"',;:\[\]：，；＜＞（）「」])(?!/)"
    r"[^\s<>()\"',;:\[\]：，；＜＞（）「」]+@[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]"
)
_ADDRESS = pattern(ADDRESS_PATTERN)


def field_blocks(text: str) -> list[list[tuple[str, str]]]:
    """Split a delivery-status body into blocks of (lower-case name, unfolded value)."""
    blocks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        if line[0] in " \t" and current:
            name, value = current[-1]
            current[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if colon and name.strip() and " " not in name.strip():
            current.append((name.strip().lower(), value.strip()))
    if current:
        blocks.append(current)
    return blocks


def first(block: list[tuple[str, str]], name: str) -> str | None:
    """Return the first non-empty value of a field in a block."""
    for key, value in block:
        if key == name and value:
            return value
    return None


def typed_value(value: str) -> tuple[str | None, str]:
    """Split '<type>; <text>' into its lower-case type and text (type None if absent)."""
    kind, semi, rest = value.partition(";")
    if semi and kind.strip() and " " not in kind.strip() and "@" not in kind:
        return kind.strip().lower(), rest.strip()
    return None, value.strip()


def decode_address(addr_type: str | None, text: str) -> str:
    """Return the mailbox from an address field value, undoing xtext escapes."""
    text = _COMMENT.sub("", text).strip()
    if addr_type and addr_type.startswith("utf-8"):
        text = _UTF8_XTEXT.sub(lambda m: chr(int(m.group(1), 16)), text)
    elif "+" in text and _XTEXT.search(text) and addr_type == "rfc822":
        text = _XTEXT.sub(_xtext_char, text)
    found = _ADDRESS.search(text)
    if found:
        return found.group(0).strip(".")
    return text.strip().strip("<>").strip()


def _xtext_char(match: re.Match[str]) -> str:
    """Return the character an xtext '+HH' escape stands for when it is printable."""
    code = int(match.group(1), 16)
    return chr(code) if 33 <= code <= 126 else match.group(0)


def find_reply_code(text: str | None) -> str | None:
    """Return the SMTP reply code a diagnostic states (leading code, else first 4xx/5xx)."""
    if not text:
        return None
    leading = _LEADING_REPLY.match(text)
    if leading:
        return leading.group(1)
    codes = _REPLY.findall(text)
    return next((code for code in codes if code[0] != "2"), codes[0] if codes else None)


def fold(text: str | None) -> str | None:
    """Collapse runs of whitespace to one space; None for empty text."""
    if not text:
        return None
    folded = " ".join(text.split())
    return folded or None


def parse_date(value: str | None) -> datetime | None:
    """Parse an RFC 5322 date into an aware datetime (UTC when no zone); None if unreadable."""
    if not value:
        return None
    cleaned = _COMMENT.sub("", value).strip()
    try:
        parsed = parsedate_to_datetime(cleaned)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def find_addresses(text: str) -> list[str]:
    """Return the e-mail addresses in a text, in order, without duplicates."""
    seen: dict[str, None] = {}
    for found in _ADDRESS.findall(text):
        address = found.strip(".")
        if address.lower() not in {key.lower() for key in seen}:
            seen[address] = None
    return list(seen)
