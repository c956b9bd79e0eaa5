"""Recipients a bounce text names in sentences: 'could not deliver to <addr>', 'Mailbox is
full: <addr>' (the text rules' second try, after lines that name a recipient)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from bouncer.core.dsn.caseless import Caseless
from bouncer.core.dsn.errortext import Budget, Rest, error_text
from bouncer.core.dsn.fields import ADDRESS_PATTERN, at_runs
from bouncer.core.dsn.limits import MAX_ERROR_TEXT, MAX_RECIPIENTS
from bouncer.core.dsn.textlines import SuffixFolder, TextLines
from bouncer.core.dsn.textscan import Failure, envelope_senders
from bouncer.core.rules.regex_cache import pattern

_ADDR = ADDRESS_PATTERN
_TRAILING = pattern(rf":[ \t]*<({_ADDR})>[ \t.]*$")
_NOT_RECIPIENT = pattern(
    r"(?:message-id|in-reply-to|references|mail from|from|sender|return-path|envelope-from"
    r"|reply-to|smtp\.mailfrom)[ \t]*[:=]?[ \t]*<?$",
    re.IGNORECASE,
)
_NOT_RECIPIENT_TAIL = " \t:=<"  # what may follow those words, before the address
_NOT_RECIPIENT_WORD = 16  # more than the longest of those words
# A phrase word, then the address. The words as `\bto`, `\brecipient` ... `\bRCPT TO`, `\bfor`,
# `\buser`, `\bmailbox`, `attempts` and CJK ones, matched case-insensitively; written with the
# word boundary after the first letter (`t(?<!\wt)o` is `\bto`), so that `re` skips ahead to
# the words' first letters in the case-folded line.
_PHRASE = Caseless(
    rf"(?:t(?<!\wt)o|r(?<!\wr)ecipient|a(?<!\wa)ddress(?:es)?|r(?<!\wr)cpt to|f(?<!\wf)or"
    rf"|u(?<!\wu)ser|m(?<!\wm)ailbox|attempts|收件人|收信人|受信者|宛先|수신자)"
    rf"[ \t]*[:：]?[ \t]*['\"]?<?({_ADDR})>?"
)
# Where _PHRASE can match: its word ends where the separators before an address start (the
# address starts a run of address characters holding an "@"), so it starts that far back by one
# of the words' lengths. On a long line with few addresses, the pattern is tried only there.
_PHRASE_WORD_LENGTHS = (2, 3, 4, 7, 8, 9)  # to/for/user/rcpt to/attempts/recipient, CJK words
_PHRASE_SEPARATORS = " \t:：'\"<"
_FEW_ADDRESSES = 64  # characters per "@" above which a line is read from its addresses
_SYSTEM_LOCAL = pattern(r"^(?:postmaster|mailer-daemon|mailer_daemon|root|abuse|noreply)@", re.I)


class _Named(NamedTuple):
    """Where a sentence names an address: the whole match, the address, and whether its error
    text comes before it ("Mailbox is full: <addr>") rather than after it."""

    start: int
    end: int
    address_start: int
    address_end: int
    text_before: bool


def phrase_failures(
    region: str, excluded: set[str], senders: set[str] | None = None
) -> list[Failure]:
    """Return recipients named in sentences like 'could not deliver to <addr>' (not the
    envelope sender, `senders` when already found)."""
    excluded = excluded | (envelope_senders(region) if senders is None else senders)
    found: dict[str, Failure] = {}
    lines = TextLines(region.split("\n"))
    budget = Budget()
    for index, line in enumerate(lines.lines):
        if "@" in line:
            _read_line(lines, index, excluded, found, budget)
        if len(found) >= MAX_RECIPIENTS:
            break
    return list(found.values())


def _read_line(
    lines: TextLines, index: int, excluded: set[str], found: dict[str, Failure], budget: Budget
) -> None:
    """Add the recipients one line names in sentences to `found` (up to MAX_RECIPIENTS)."""
    line = lines.lines[index]
    after: SuffixFolder | None = None
    for named in _named(line):
        if _after_sender_word(line, named.address_start):
            continue
        address = line[named.address_start : named.address_end].strip(".")
        key = address.lower()
        if key in excluded or key in found or _SYSTEM_LOCAL.match(address):
            continue
        if named.text_before:
            rest = Rest.of(line[: named.start])
        else:
            after = after or SuffixFolder(line)
            rest = Rest(*after.after(named.end, MAX_ERROR_TEXT))
        found[key] = Failure(address, error_text(lines, index, rest, budget))
        if len(found) >= MAX_RECIPIENTS:
            return


def _named(line: str) -> Iterator[_Named]:
    """Yield where the line names addresses: the matches of _PHRASE (in order, as finditer
    gives them), then that of _TRAILING (at most one: it ends the line)."""
    compiled, folded = _PHRASE.prepared(line)
    if line.count("@") * _FEW_ADDRESSES < len(line):
        matches = _matches_at(compiled, folded, _phrase_starts(line))
    else:
        matches = compiled.finditer(folded)
    for match in matches:
        yield _Named(match.start(), match.end(), match.start(1), match.end(1), False)
    trailing = _TRAILING.search(line)
    if trailing:
        yield _Named(*trailing.span(), *trailing.span(1), True)


def _phrase_starts(line: str) -> list[int]:
    """Return, in order, every position where a phrase word can start (before an address)."""
    starts = set()
    for run_start, _ in at_runs(line):
        word_end = _run_start(line, run_start, _PHRASE_SEPARATORS)
        starts.update(word_end - n for n in _PHRASE_WORD_LENGTHS if n <= word_end)
    return sorted(starts)


def _matches_at(compiled: re.Pattern[str], text: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """Yield the matches finditer would give, given every position where one can start."""
    position = 0
    for start in starts:
        found = compiled.match(text, start) if start >= position else None
        if found:
            yield found
            position = found.end()


def _run_start(line: str, end: int, characters: str) -> int:
    """Return where the run of `characters` that ends at `end` starts (windows growing from
    the end: a run costs its length, whatever is before it)."""
    width = 64
    while True:
        low = max(0, end - width)
        kept = line[low:end].rstrip(characters)
        if kept or low == 0:
            return low + len(kept)
        width *= 4


def _after_sender_word(line: str, end: int) -> bool:
    """Tell whether the text before `end` ends with a word naming a sender or a message
    ("From: ", "Message-ID: <"), as _NOT_RECIPIENT.search(line[:end]) tells; only the end of
    the text is searched (where such a match must end), not the line up to each address."""
    word_end = _run_start(line, end, _NOT_RECIPIENT_TAIL)
    return _NOT_RECIPIENT.search(line, max(0, word_end - _NOT_RECIPIENT_WORD), end) is not None
