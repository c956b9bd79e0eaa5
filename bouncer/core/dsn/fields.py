"""RFC 3464 / RFC 6533 field blocks and the small values inside them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from operator import methodcaller

from bouncer.core.dsn.status_choice import find_status, preferred_status
from bouncer.core.rules.regex_cache import pattern

__all__ = ["find_status", "preferred_status"]  # re-exported: where callers look for them

# A reply code not inside a longer token (the look-behind follows the first digit, so that `re`
# can skip ahead to a digit: `(?<![\w.\-/:#=+])([245][0-5]\d)...`, the same matches).
_REPLY = pattern(r"([245](?<![\w.\-/:#=+][245])[0-5]\d)(?=[\-\]:;,]|\s+\S)(?!:\d)")
_LEADING_REPLY = pattern(r"^\s*([245][0-5]\d)(?:[\s\-]|$)")
_XTEXT = pattern(r"\+([0-9A-Fa-f]{2})")
_UTF8_XTEXT = pattern(r"\\x\{([0-9A-Fa-f]{1,6})\}")
_COMMENT = pattern(r"\([^()]*\)")
# An address starts where a token starts (never inside a word a keyword pattern ran into:
# "userid: userx@..." must not yield "x@...") and has a domain of letters, digits, dots, dashes.
# (A file path such as "/home/u/.forward@host" is no address either.)
# (Full-width punctuation of CJK text, "收件人：x@y", delimits like its ASCII form.)
ADDRESS_DELIMITERS = r"\s<>()\"',;:\[\]：，；＜＞（）「」"
ADDRESS_CHAR = rf"[^{ADDRESS_DELIMITERS}]"  # what an address's local part is made of
ADDRESS_PATTERN = (
    rf"(?<!{ADDRESS_CHAR})(?!/)"
    rf"{ADDRESS_CHAR}+@[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]"
)
_ADDRESS = pattern(ADDRESS_PATTERN)
_STRIP_DOTS = methodcaller("strip", ".")
_LAST_DELIMITER = pattern(rf"(?s:.*)[{ADDRESS_DELIMITERS}]")
_ADDRESS_CHARS = pattern(rf"{ADDRESS_CHAR}*")


def field_blocks(text: str) -> list[list[tuple[str, str]]]:
    """Split a delivery-status body into blocks of (lower-case name, unfolded value)."""
    return list(iter_field_blocks(text))


def iter_field_blocks(text: str) -> Iterator[list[tuple[str, str]]]:
    """Yield the blocks of (lower-case name, unfolded value) of a delivery-status body.

    A field's continuation lines are gathered and joined once, so a field folded over many
    lines costs time linear in its size.
    """
    current: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        if not line.strip():
            if current:
                yield _joined_fields(current)
                current = []
            continue
        if line[0] in " \t" and current:
            current[-1][1].append(line.strip())
            continue
        name, colon, value = line.partition(":")
        if colon and name.strip() and " " not in name.strip():
            current.append((name.strip().lower(), [value.strip()]))
    if current:
        yield _joined_fields(current)


def _joined_fields(fields: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """Return (name, value) pairs with each field's lines joined by single spaces."""
    return [(name, " ".join(parts)) for name, parts in fields]


def at_runs(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each run of address characters holding an "@" (found from the
    "@"s: text without one costs a fast scan, and each run is read once)."""
    at = text.find("@")
    while at >= 0:
        end = _ADDRESS_CHARS.match(text, at).end()
        yield _run_start(text, at), end
        at = text.find("@", end)


def _run_start(text: str, at: int) -> int:
    """Return where the run of address characters holding position `at` starts, looking back
    in growing windows (so a run costs its length)."""
    width = 64
    while True:
        low = max(0, at - width)
        delimiter = _LAST_DELIMITER.match(text, low, at)
        if delimiter or low == 0:
            return delimiter.end() if delimiter else 0
        width *= 4


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


def folded_prefix(text: str, limit: int) -> str:
    """Return (fold(text) or "")[:limit], folding only as much of the text as that needs (the
    folded form of a text's start is the start of its folded form)."""
    width = 4 * limit + 64
    while True:
        folded = " ".join(text[:width].split())
        if len(folded) >= limit or width >= len(text):
            return folded[:limit]
        width *= 4


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


def address_keys(text: str) -> set[str]:
    """Return the lower-cased e-mail addresses in a text (those find_addresses finds)."""
    return set(map(str.lower, map(_STRIP_DOTS, _ADDRESS.findall(text))))


def find_addresses(text: str) -> list[str]:
    """Return the e-mail addresses in a text, in order, without duplicates."""
    addresses = [found.strip(".") for found in _ADDRESS.findall(text)]
    keys = list(map(str.lower, addresses))
    # The first spelling of each address (lower-cased key), in the order of first occurrence.
    first = dict(zip(reversed(keys), reversed(addresses), strict=True))
    return [first[key] for key in dict.fromkeys(keys)]
