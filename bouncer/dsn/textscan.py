"""Read failed recipients and their error text out of a bounce's human-readable body."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bouncer.dsn.caseless import Caseless
from bouncer.dsn.fields import ADDRESS_PATTERN, fold
from bouncer.rules.regex_cache import pattern

_ADDR = ADDRESS_PATTERN
# The returned message (or its headers) starts after one of these lines.
_ORIGINAL_MARKER = Caseless(
    r"^[ \t>]*(?:-+ ?(?:this is a copy|the header of the original|original message"
    r"|below this line|original mail|.{0,40}(?:original|returned) message)"
    r"|original message (?:follows|headers)|original message headers"
    r"|included is a copy of the message|message headers follow"
    r"|the original message headers|-+ ?original mail info"
    r"|-+ ?undelivered message|.{0,30}message header follows"
    r"|-+ ?returned message|\*\*\*\*\* ?original|content-type: message/rfc822"
    r"|original message:?[ \t]*$|return-path: <)",
    re.MULTILINE,
)
# A pasted copy of the returned message's header: three or more header lines in a row, one of
# them From:, with a Subject:, Date:, Message-ID: or Received: among them. Bounce texts
# summarise the failed message with "Subject:"/"Sent:" lines too, but never with its From:.
_HEADER_LINE = (
    r"(?:from|to|cc|subject|date|message-id|received|return-path|reply-to|sender|"
    r"mime-version|content-type|x-[a-z0-9-]+)[ \t]*:[^\n]*\n(?:[ \t]+[^\n]*\n)*"
)
_PASTED_HEADER = pattern(rf"^(?:{_HEADER_LINE}){{3,}}", re.MULTILINE | re.IGNORECASE)
_ORIGINAL_FIELDS = pattern(
    r"^(from|subject|date|message-id|received)[ \t]*:", re.MULTILINE | re.IGNORECASE
)
# Quote marks at the start of a line, found after its newline (a literal start scans fast).
_QUOTE = pattern(r"\n(?:[ \t]*>)+ ?")
_ALONE = pattern(
    rf"^[ \t*\-]*<?(?:mailto:)?({_ADDR})>?(?:<mailto:[^>]*>)?"
    rf"(?:[ \t]*\([^)]*\))?[ \t]*[:.]?[ \t]*$"
)
_LEADING = pattern(rf"^[ \t*\-]*<({_ADDR})>[ \t]*(?:[:.,]+|\.\.\.)?[ \t]*(.*)$")
_LEADING_BARE = pattern(rf"^[ \t*\-]*({_ADDR})[ \t]*(?::|\.\.\.)[ \t]+(.+)$")
# An address rendered with its link ("x@y<mailto:x@y> A communication failure ...", Outlook's
# plain-text NDRs), the error text after it.
_MAILTO_LINKED = pattern(rf"^[ \t*\-]*({_ADDR})<mailto:[^>]*>[ \t]*(.*)$")
# Exchange's "The following recipient(s) cannot be reached:" list: "x@y on <date>".
_ON_DATE = pattern(rf"^[ \t*\-]*<?({_ADDR})>?[ \t]+on[ \t]+\d[^\n]*$", re.IGNORECASE)
_BRACKETED_REASON = pattern(rf"^[ \t*\-]*<?({_ADDR})>?[ \t]+[\[(](.+)[\])][ \t.]*$")
_TRAILING = pattern(rf":[ \t]*<({_ADDR})>[ \t.]*$")
_NOT_RECIPIENT = pattern(
    r"(?:message-id|in-reply-to|references|mail from|from|sender|return-path|envelope-from"
    r"|reply-to|smtp\.mailfrom)[ \t]*[:=]?[ \t]*<?$",
    re.IGNORECASE,
)
_PHRASE = pattern(
    rf"(?:\bto|\brecipient|\baddress(?:es)?|\bRCPT TO|\bfor|\buser|\bmailbox|attempts"
    rf"|收件人|收信人|受信者|宛先|수신자)"
    rf"[ \t]*[:：]?[ \t]*['\"]?<?({_ADDR})>?",
    re.IGNORECASE,
)
# The sender a text names: a transcript's "MAIL FROM:<x>", Exim's "A message sent by <x>".
_MAIL_FROM = pattern(
    rf"(?:mail\s+from:?|(?:message|mail)\s+(?:sent|submitted)\s+by:?)\s*<?({_ADDR})>?",
    re.IGNORECASE,
)
_SYSTEM_LOCAL = pattern(r"^(?:postmaster|mailer-daemon|mailer_daemon|root|abuse|noreply)@", re.I)
_REPLY_LINE = pattern(r"(?:^|[\s:'\"(])[245]\d\d[ \-][^\n]*|[245]\.\d{1,3}\.\d{1,3}[^\n]*")
# A reply code is followed by its text ("550 No such user", "550-5.1.1 ..."): a number that
# ends a line ("Size (in bytes): 222") is no reply.
_CODE = pattern(r"(?<![\w.\-/:#])[245]\d\d(?=[ \-]+\S)|\b[245]\.\d{1,3}\.\d{1,3}\b")
_LETTERS = pattern(r"[^\W\d_]")
_INTRO = pattern(
    r"^(?:reason|because|for the following reason|the problem appears to be|error|"
    r"technical details.*|additional information follows|-+ ?server message.*)\s*:?\s*$",
    re.IGNORECASE,
)


# A labelled reason just above a recipient line of the same paragraph ("reject reason: Mailbox
# full" then "target mail address: x@y"): that recipient's own error text.
_REASON_LABEL = pattern(
    r"^[ \t*\-]*(?:[A-Za-z][A-Za-z \-]{0,30}\b)?(?:reason|error|cause|problem|diagnostic|status"
    r"|details?)[ \t]*[:=][ \t]*(\S.*)$",
    re.IGNORECASE,
)


# One "Label: value" line of a list of fields (a summary of the message, a transcript's
# "RCPT TO:" line).
_FIELD_LINE = pattern(r"^[ \t]*[A-Za-z][A-Za-z0-9 ()\-]{0,30}:[ \t]")


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
    found = _ORIGINAL_MARKER.search(text)
    end = found.start() if found and found.start() > 0 else len(text)
    pasted = _pasted_header(text, end)
    return text[:pasted] if pasted is not None else text[:end]


def _pasted_header(text: str, end: int) -> int | None:
    """Return where a pasted copy of the original's header starts (before `end`), if any."""
    for block in _PASTED_HEADER.finditer(text, 0, end):
        names = {m.group(1).lower() for m in _ORIGINAL_FIELDS.finditer(block.group(0))}
        if "from" in names and len(names) >= 2 and block.start() > 0:
            return block.start()
    return None


def scan_failures(region: str, excluded: set[str]) -> list[Failure]:
    """Return the failed recipients a bounce text names, each with its error text.

    The envelope sender a transcript shows (`MAIL FROM:<x>`) is never one of them.
    """
    excluded = excluded | envelope_senders(region)
    lines = region.split("\n")
    found: dict[str, Failure] = {}
    inside_until = -1  # lines up to here are the error text of the last recipient
    for index, line in enumerate(lines):
        match = None if index <= inside_until else _line_address(line)
        if match is None:
            continue
        address, rest = match
        key = address.lower()
        if key in excluded or key in found:
            continue
        found[key] = Failure(address, error_text(lines, index, rest))
        inside_until = index + len(_deeper_block(lines, index))
    return list(found.values())


def _deeper_block(lines: list[str], index: int) -> list[str]:
    """Return the lines after a recipient line indented deeper than it (its error text, which
    may quote other addresses), up to a blank line."""
    own_indent = _indent(lines[index])
    block = []
    for line in lines[index + 1 : index + 13]:
        if not line.strip() or _indent(line) <= own_indent:
            break
        block.append(line)
    return block


def _line_address(line: str) -> tuple[str, str] | None:
    """Return (address, text after it) when a line names a recipient."""
    if "@" not in line:
        return None  # every pattern below needs an address
    alone = _ALONE.match(line)
    if alone:
        return alone.group(1).strip("."), ""
    leading = _LEADING.match(line) or _LEADING_BARE.match(line) or _BRACKETED_REASON.match(line)
    if leading:
        return leading.group(1).strip("."), leading.group(2)
    dated = _ON_DATE.match(line)
    if dated:
        return dated.group(1).strip("."), ""
    linked = _MAILTO_LINKED.match(line)
    return (linked.group(1).strip("."), linked.group(2)) if linked else None


def envelope_senders(region: str) -> set[str]:
    """Return the addresses the text gives as the sender (a transcript's envelope sender)."""
    return {m.group(1).lower() for m in _MAIL_FROM.finditer(region)}


def phrase_failures(region: str, excluded: set[str]) -> list[Failure]:
    """Return recipients named in sentences like 'could not deliver to <addr>'."""
    excluded = excluded | envelope_senders(region)
    found: dict[str, Failure] = {}
    lines = region.split("\n")
    for index, line in enumerate(lines):
        if "@" not in line:
            continue
        trailing = list(_TRAILING.finditer(line))
        for match in [*_PHRASE.finditer(line), *trailing]:
            if _NOT_RECIPIENT.search(line[: match.start(1)]):
                continue
            address = match.group(1).strip(".")
            key = address.lower()
            if key in excluded or key in found or _SYSTEM_LOCAL.match(address):
                continue
            # "Mailbox is full: <addr>" gives its error before the address, others after it
            rest = line[: match.start()] if match in trailing else line[match.end() :]
            found[key] = Failure(address, error_text(lines, index, rest))
    return list(found.values())


def error_text(lines: list[str], index: int, rest: str) -> str | None:
    """Return the error text given for the recipient on line `index`: on its line and below,
    or in a labelled reason line right above it."""
    above = _label_above(lines, index)
    if above and not has_code(rest):
        return fold(" ".join(part for part in (above, rest) if part.strip())) or None
    block = [rest] if rest.strip() else []
    block.extend(_following_block(lines, index))
    text = fold(" ".join(block))
    if _is_weak(text):
        text = _join(text, _next_paragraph(lines, index + 1))
    if not text or not _CODE.search(text):
        text = _join(text, _code_line_after(lines, index))
    return text.lstrip(" .,:;-") or None if text else None


def _label_above(lines: list[str], index: int) -> str | None:
    """Return the text of a labelled reason line just above line `index` (same paragraph)."""
    for line in reversed(lines[max(0, index - 2) : index]):
        if not line.strip() or "@" in line:
            return None
        found = _REASON_LABEL.match(line)
        if found:
            return found.group(1).strip()
    return None


def _join(first_text: str | None, second_text: str | None) -> str | None:
    """Join two optional texts with a space."""
    return fold(" ".join(part for part in (first_text, second_text) if part))


def _is_weak(text: str | None) -> bool:
    """Tell whether an error text is too short or only an introduction."""
    if not text:
        return True
    return len(_LETTERS.findall(text)) < 8 or bool(_INTRO.match(text))


def _indent(line: str) -> int:
    """Return the width of a line's leading whitespace."""
    return len(line) - len(line.lstrip(" \t*-"))


def _following_block(lines: list[str], index: int) -> list[str]:
    """Return the lines after a recipient line up to a blank line or the next recipient.

    When the recipient line is one labelled field of a list ("RCPT TO: x@y" among "Subject:",
    "Size (in bytes): 222" ...), the fields after it describe the message, not the failure.
    """
    block = []
    own_indent = _indent(lines[index])
    in_fields = bool(_FIELD_LINE.match(lines[index]))
    for line in lines[index + 1 : index + 13]:
        if not line.strip():
            break
        if _indent(line) <= own_indent and _line_address(line) is not None:
            break
        if in_fields and _FIELD_LINE.match(line) and not _CODE.search(line):
            continue
        block.append(line)
    return block


def _code_line_after(lines: list[str], index: int) -> str | None:
    """Return the first line after `index` carrying a reply or status code, before the next
    recipient line."""
    own_indent = _indent(lines[index])
    for line in lines[index + 1 : index + 30]:
        if _indent(line) <= own_indent and _line_address(line) is not None:
            return None
        if _CODE.search(line):
            return fold(line)
    return None


def _next_paragraph(lines: list[str], start: int) -> str | None:
    """Return the next non-intro paragraph after a blank line (e.g. after 'because:')."""
    position = start
    while position < len(lines) and lines[position].strip():
        position += 1
    paragraph: list[str] = []
    for line in lines[position : position + 20]:
        if not line.strip():
            if paragraph and not _INTRO.match(" ".join(paragraph).strip()):
                break
            continue
        if _ALONE.match(line):
            break
        paragraph.append(line)
    return fold(" ".join(paragraph))


def has_code(text: str | None) -> bool:
    """Tell whether a text carries an SMTP reply code or an RFC 3463 status code."""
    return bool(text and _CODE.search(text))


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
    text = fold(region)
    return text[:limit] if text else None
