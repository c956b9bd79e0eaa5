"""The lines of a bounce text, with what the text scanners ask of each line worked out once.

A recipient's error text is read from its own line and the lines around it (two above, up to
thirty below, the next paragraph); a line is asked the same questions for every recipient near
it (does it name a recipient, carry a reply code, how far is it indented, its words folded).
`TextLines` answers each question once per line, so a long line costs its length once, not once
per recipient near it; `SuffixFolder` gives the text after each of many addresses on one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bouncer.core.dsn.fields import ADDRESS_PATTERN, folded_prefix
from bouncer.core.dsn.limits import MAX_ERROR_TEXT
from bouncer.core.rules.regex_cache import pattern

_ADDR = ADDRESS_PATTERN
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
# A reply code is followed by its text ("550 No such user", "550-5.1.1 ..."): a number that
# ends a line ("Size (in bytes): 222") is no reply. The same matches as
# `(?<![\w.\-/:#])[245]\d\d(?=[ \-]+\S)|\b[245]\.\d{1,3}\.\d{1,3}\b`, with the digit first
# and the look-behind after it (a leading look-behind keeps `re` from skipping ahead to a digit).
CODE = pattern(r"[245](?:(?<![\w.\-/:#][245])\d\d(?=[ \-]+\S)|(?<!\w[245])\.\d{1,3}\.\d{1,3}\b)")
# A code at the start of a text cut from a line (nothing before it to look behind at).
_CODE_HERE = pattern(r"[245]\d\d(?=[ \-]+\S)|[245]\.\d{1,3}\.\d{1,3}\b")
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
_SHORT = 256  # lines shorter than this are asked again rather than remembered


def line_address(line: str) -> tuple[str, str] | None:
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


def indent(line: str) -> int:
    """Return the width of a line's leading whitespace (and list marks)."""
    return len(line) - len(line.lstrip(" \t*-"))


def _label(line: str) -> str | None:
    """Return the folded text (cut at MAX_ERROR_TEXT) of a labelled reason line ("Reason:
    ..."), if it is one."""
    found = _REASON_LABEL.match(line)
    return folded_prefix(found.group(1), MAX_ERROR_TEXT) if found else None


class TextLines:
    """A text's lines, each question about a long line answered once and remembered (a short
    line is cheaper to ask again than to look up)."""

    __slots__ = ("lines", "_memo", "_blank_after")

    def __init__(self, lines: list[str]) -> None:
        """Keep the lines; nothing is computed until asked."""
        self.lines = lines
        self._memo: dict[Any, dict[int, Any]] = {}
        self._blank_after: list[int] | None = None

    def __len__(self) -> int:
        """Return the number of lines."""
        return len(self.lines)

    def _cached(self, compute: Callable[[str], Any], index: int) -> Any:
        """Return compute(line) for a line, computed once if the line is long."""
        line = self.lines[index]
        if len(line) < _SHORT:
            return compute(line)
        store = self._memo.setdefault(compute, {})
        if index not in store:
            store[index] = compute(line)
        return store[index]

    def remember(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Return compute(), computed once per key (for answers about several lines)."""
        store = self._memo.setdefault("remembered", {})
        if key not in store:
            store[key] = compute()
        return store[key]

    def address(self, index: int) -> tuple[str, str] | None:
        """Return line_address of a line (remembered whenever the line has an "@")."""
        line = self.lines[index]
        if "@" not in line:
            return None
        store = self._memo.setdefault(line_address, {})
        if index not in store:
            store[index] = line_address(line)
        return store[index]

    def folded(self, index: int) -> str:
        """Return a line with its whitespace folded, cut at MAX_ERROR_TEXT ("" if blank)."""
        return self._cached(_folded, index)

    def has_code(self, index: int) -> bool:
        """Tell whether a line carries a reply or status code."""
        return self._cached(_has_code, index)

    def indent(self, index: int) -> int:
        """Return the width of a line's leading whitespace (and list marks)."""
        return self._cached(indent, index)

    def blank(self, index: int) -> bool:
        """Tell whether a line is empty or white space."""
        return self._cached(_blank, index)

    def field(self, index: int) -> bool:
        """Tell whether a line is one 'Label: value' field of a list."""
        return self._cached(_field, index)

    def alone(self, index: int) -> bool:
        """Tell whether a line is an address alone."""
        return self._cached(_alone, index)

    def has_at(self, index: int) -> bool:
        """Tell whether a line holds an "@"."""
        return self._cached(_has_at, index)

    def label(self, index: int) -> str | None:
        """Return the folded reason of a labelled reason line, if it is one."""
        return self._cached(_label, index)

    def paragraph_end(self, start: int) -> int:
        """Return the index of the first blank line at or after `start` (or the line count)."""
        if self._blank_after is None:
            after = [len(self.lines)] * (len(self.lines) + 1)
            for index in range(len(self.lines) - 1, -1, -1):
                after[index] = index if self.blank(index) else after[index + 1]
            self._blank_after = after
        return self._blank_after[min(start, len(self.lines))]


def _folded(line: str) -> str:
    """Return fold(line) cut at MAX_ERROR_TEXT (all an error text takes), "" for a blank line."""
    return folded_prefix(line, MAX_ERROR_TEXT)


def _has_code(line: str) -> bool:
    """Tell whether a line carries a reply or status code."""
    return CODE.search(line) is not None


def _blank(line: str) -> bool:
    """Tell whether a line is empty or white space."""
    return not line.strip()


def _field(line: str) -> bool:
    """Tell whether a line is one 'Label: value' field of a list."""
    return _FIELD_LINE.match(line) is not None


def _alone(line: str) -> bool:
    """Tell whether a line is an address alone."""
    return _ALONE.match(line) is not None


def _has_at(line: str) -> bool:
    """Tell whether a line holds an "@"."""
    return "@" in line


class SuffixFolder:
    """The text after each of several positions of one line (given in increasing order):
    folded, cut to a length, and whether it carries a code — without cutting the line at each
    position (which costs the line's length per position). The line is read only as far as the
    positions asked for need: counted up to the position, folded a little beyond it, searched
    for a code up to the next one."""

    __slots__ = ("line", "_done", "_words_before", "_letters_before", "_folded", "_read")
    __slots__ += ("_code_at",)

    def __init__(self, line: str) -> None:
        """Read nothing yet."""
        self.line = line
        self._done = 0  # the line is counted up to here
        self._words_before = 0  # words starting before _done
        self._letters_before = 0  # non-white characters before _done
        self._folded = ""  # fold(line[:_read]), the start of fold(line)
        self._read = 0
        self._code_at: int | None = None  # the first code after the last position (-1: none)

    def after(self, position: int, limit: int) -> tuple[str, bool]:
        """Return fold(line[position:]) cut to `limit` characters, and whether the text after
        the position carries a code (as has_code(line[position:]) would tell)."""
        self._count_to(position)
        line = self.line
        inside = 0 < position < len(line) and not line[position - 1].isspace()
        inside = inside and not line[position].isspace()  # a word runs across the position
        start = self._letters_before + self._words_before - (1 if inside else 0)
        return self._folded_part(start, limit, position), self._code_after(position)

    def _folded_part(self, start: int, limit: int, position: int) -> str:
        """Return fold(line)[start:start + limit], folding the line as far as that needs."""
        while len(self._folded) < start + limit and self._read < len(self.line):
            self._read = max(2 * self._read, position + 4 * limit + 64)
            self._folded = " ".join(self.line[: self._read].split())
        return self._folded[start : start + limit]

    def _code_after(self, position: int) -> bool:
        """Tell whether line[position:] carries a code: one right at the position (nothing to
        look behind at there), or any of the whole line's after it."""
        if _CODE_HERE.match(self.line, position):
            return True
        if self._code_at is None or 0 <= self._code_at <= position:
            found = CODE.search(self.line, position + 1)
            self._code_at = found.start() if found else -1
        return self._code_at > position

    def _count_to(self, position: int) -> None:
        """Count the words starting, and the non-white characters, before a position."""
        if position < self._done:
            raise ValueError("positions must be given in increasing order")
        piece = self.line[self._done : position]
        words = piece.split()
        if words and self._done > 0 and not piece[0].isspace():
            continued = not self.line[self._done - 1].isspace()
        else:
            continued = False
        self._words_before += len(words) - (1 if continued else 0)
        self._letters_before += sum(map(len, words))
        self._done = position
