"""Read failed recipients and their error text out of a bounce's human-readable body."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bouncer.core.dsn.caseless import Caseless
from bouncer.core.dsn.errortext import Budget, Rest, error_text
from bouncer.core.dsn.fields import ADDRESS_PATTERN, fold, folded_prefix
from bouncer.core.dsn.limits import MAX_RECIPIENTS
from bouncer.core.dsn.textlines import CODE, TextLines
from bouncer.core.rules.regex_cache import pattern

_ADDR = ADDRESS_PATTERN
# The returned message (or its headers) starts after one of these lines. (Runs of dashes and of
# leading blanks are taken whole, `-++`, `*+`: giving some back never lets a marker match, and
# trying costs time on a long line of them.)
_ORIGINAL_MARKER = Caseless(
    r"^[ \t>]*+(?:-++ ?(?:this is a copy|the header of the original|original message"
    r"|below this line|original mail|.{0,40}(?:original|returned) message)"
    r"|original message (?:follows|headers)|original message headers"
    r"|included is a copy of the message|message headers follow"
    r"|the original message headers|-++ ?original mail info"
    r"|-++ ?undelivered message|.{0,30}message header follows"
    r"|-++ ?returned message|\*\*\*\*\* ?original|content-type: message/rfc822"
    r"|original message:?[ \t]*$|return-path: <)",
    re.MULTILINE,
)
# A pasted copy of the returned message's header: three or more header lines in a row, one of
# them From:, with a Subject:, Date:, Message-ID: or Received: among them. Bounce texts
# summarise the failed message with "Subject:"/"Sent:" lines too, but never with its From:.
# (A continuation line is `[ \t][^\n]*\n`: `[ \t]+[^\n]*` would split a long blank line in
# every way before failing.)
_HEADER_LINE = (
    r"(?:from|to|cc|subject|date|message-id|received|return-path|reply-to|sender|"
    r"mime-version|content-type|x-[a-z0-9-]+)[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*"
)
_PASTED_HEADER = Caseless(rf"^(?:{_HEADER_LINE}){{3,}}", re.MULTILINE)
_ORIGINAL_FIELDS = pattern(
    r"^(from|subject|date|message-id|received)[ \t]*:", re.MULTILINE | re.IGNORECASE
)
# Quote marks at the start of a line, found after its newline (a literal start scans fast).
_QUOTE = pattern(r"\n(?:[ \t]*>)+ ?")
# The sender a text names: a transcript's "MAIL FROM:<x>", Exim's "A message sent by <x>".
# (`mail\s+from:?|(?:message|mail)\s+(?:sent|submitted)\s+by:?`, written from its first letter,
# so that `re` skips ahead to an "m".)
_MAIL_FROM = Caseless(
    rf"m(?:ail\s+from:?|essage\s+(?:sent|submitted)\s+by:?|ail\s+(?:sent|submitted)\s+by:?)"
    rf"\s*<?({_ADDR})>?"
)
_SYSTEM_LOCAL = pattern(r"^(?:postmaster|mailer-daemon|mailer_daemon|root|abuse|noreply)@", re.I)
# A line with a reply ("550 ..." at the start or after a space, colon, quote or parenthesis)
# or a status code: `(?:^|[\s:'\"(])[245]\d\d[ \-]|[245]\.\d{1,3}\.\d{1,3}` (only whether
# a line has one is asked), written with the digit first so that `re` skips ahead to digits.
_REPLY_LINE = pattern(r"[245](?:(?<![^\s:'\"(][245])\d\d[ \-]|\.\d{1,3}\.\d{1,3})")


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed recipient read from a text, with the error text given for it."""

    address: str
    diagnostic: str | None


def bounce_region(text: str) -> str:
    """Return the part of a bounce text before the returned original message: before a line
    that announces it, or before a pasted copy of its header (nothing in the returned message
    names a failed recipient)."""
    if ">" in text:
        text = _QUOTE.sub("\n", "\n" + text)[1:]
    found = next(_ORIGINAL_MARKER.line_matches(text), None)
    end = found[0] if found and found[0] > 0 else len(text)
    pasted = _pasted_header(text, end)
    return text[:pasted] if pasted is not None else text[:end]


def _pasted_header(text: str, end: int) -> int | None:
    """Return where a pasted copy of the original's header starts (before `end`), if any."""
    for start, block_end in _PASTED_HEADER.line_matches(text, 0, end):
        block = text[start:block_end]
        names = {m.group(1).lower() for m in _ORIGINAL_FIELDS.finditer(block)}
        if "from" in names and len(names) >= 2 and start > 0:
            return start
    return None


def scan_failures(
    region: str, excluded: set[str], senders: set[str] | None = None
) -> list[Failure]:
    """Return the failed recipients a bounce text names, each with its error text.

    The envelope sender a transcript shows (`MAIL FROM:<x>`, `senders` when already found) is
    never one of them.
    """
    excluded = excluded | (envelope_senders(region) if senders is None else senders)
    lines = TextLines(region.split("\n"))
    budget = Budget()
    found: dict[str, Failure] = {}
    inside_until = -1  # lines up to here are the error text of the last recipient
    for index in range(len(lines)):
        match = None if index <= inside_until else lines.address(index)
        if match is None:
            continue
        address, rest = match
        key = address.lower()
        if key in excluded or key in found:
            continue
        found[key] = Failure(address, error_text(lines, index, Rest.of(rest), budget))
        if len(found) == MAX_RECIPIENTS:
            break
        inside_until = index + len(_deeper_block(lines, index))
    return list(found.values())


def _deeper_block(lines: TextLines, index: int) -> list[int]:
    """Return the lines after a recipient line indented deeper than it (its error text, which
    may quote other addresses), up to a blank line."""
    own_indent = lines.indent(index)
    block = []
    for line in range(index + 1, min(index + 13, len(lines))):
        if lines.blank(line) or lines.indent(line) <= own_indent:
            break
        block.append(line)
    return block


def envelope_senders(region: str) -> set[str]:
    """Return the addresses the text gives as the sender (a transcript's envelope sender)."""
    return {region[m.start(1) : m.end(1)].lower() for m in _MAIL_FROM.finditer(region)}


def has_code(text: str | None) -> bool:
    """Tell whether a text carries an SMTP reply code or an RFC 3463 status code."""
    return bool(text and CODE.search(text))


def reply_paragraph(lines: list[str]) -> str | None:
    """Return the first line that carries an SMTP reply or status code, with the lines that
    continue it (up to a blank line or another code line), if any."""
    for index, line in enumerate(lines):
        if _REPLY_LINE.search(line):
            tail = []
            for following in lines[index + 1 : index + 6]:
                if not following.strip() or _REPLY_LINE.search(following):
                    break
                tail.append(following)
            return fold(" ".join([line, *tail]))
    return None


def region_summary(region: str, limit: int = 600) -> str | None:
    """Return the bounce text folded into one line (for recipients without own text)."""
    return folded_prefix(region, limit) or None
