"""The error text a bounce gives for one recipient: on its line and below, or in a labelled
reason line just above it.

Every answer about a line comes from `TextLines` (worked out once per line), and every text is
cut at MAX_ERROR_TEXT characters as it is put together: a recipient's text can include a long
line shared by thousands of recipients (the paragraph after their list), and copying it for each
would cost that line's length per recipient. Real error texts are far shorter (a few lines);
only a longer one is cut, and read from its first MAX_ERROR_TEXT characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from bouncer.core.dsn.fields import folded_prefix
from bouncer.core.dsn.limits import MAX_ERROR_TEXT
from bouncer.core.dsn.textlines import CODE, TextLines
from bouncer.core.rules.regex_cache import pattern

# The distinct error text one scan of a text puts together, in all; once it is spent each
# further text is cut at MIN_ERROR_TEXT (recipients sharing a line would otherwise each get a
# long piece of it: thousands of addresses on one line, each followed by the rest of the line).
ERROR_TEXT_BUDGET = 512 * 1024
MIN_ERROR_TEXT = 256
_LETTERS = pattern(r"[^\W\d_]")
_INTRO = pattern(
    r"^(?:reason|because|for the following reason|the problem appears to be|error|"
    r"technical details.*|additional information follows|-+ ?server message.*)\s*:?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Rest:
    """The text next to a recipient's address on its line: folded (cut at MAX_ERROR_TEXT), and
    whether it (uncut) carries a reply or status code."""

    folded: str
    has_code: bool

    @classmethod
    def of(cls, text: str) -> Rest:
        """Return the Rest of a text."""
        return cls(folded_prefix(text, MAX_ERROR_TEXT), CODE.search(text) is not None)


class Budget:
    """The error text one scan may still put together (distinct texts, ERROR_TEXT_BUDGET
    characters), and so how long the next one may be."""

    __slots__ = ("_left", "_seen")

    def __init__(self) -> None:
        """Start with the whole budget."""
        self._left = ERROR_TEXT_BUDGET
        self._seen: set[str] = set()

    def limit(self) -> int:
        """Return the length the next error text is cut at."""
        return MAX_ERROR_TEXT if self._left > 0 else MIN_ERROR_TEXT

    def spend(self, text: str | None) -> str | None:
        """Count a text put together (once per distinct text); return it."""
        if text and text not in self._seen:
            self._seen.add(text)
            self._left -= len(text)
        return text


def error_text(lines: TextLines, index: int, rest: Rest, budget: Budget) -> str | None:
    """Return the error text given for the recipient on line `index`: on its line and below,
    or in a labelled reason line right above it."""
    limit = budget.limit()
    above = _label_above(lines, index)
    if above and not rest.has_code:
        return budget.spend(joined(above, rest.folded, limit=limit))
    following = (lines.folded(line) for line in _following_block(lines, index))
    text = joined(rest.folded, *following, limit=limit)
    if _is_weak(text):
        text = joined(text, _next_paragraph(lines, index + 1), limit=limit)
    if not text or not CODE.search(text):
        text = joined(text, _code_line_after(lines, index), limit=limit)
    return budget.spend(text.lstrip(" .,:;-") or None if text else None)


def joined(*texts: str | None, limit: int = MAX_ERROR_TEXT) -> str | None:
    """Join the non-empty folded texts with spaces, cut at `limit` (None if empty)."""
    return " ".join(text[:limit] for text in texts if text)[:limit] or None


def _label_above(lines: TextLines, index: int) -> str | None:
    """Return the text of a labelled reason line just above line `index` (same paragraph)."""
    for above in range(index - 1, max(0, index - 2) - 1, -1):
        if lines.blank(above) or lines.has_at(above):
            return None
        found = lines.label(above)
        if found:
            return found
    return None


def _is_weak(text: str | None) -> bool:
    """Tell whether an error text is too short or only an introduction."""
    if not text:
        return True
    letters = sum(1 for _ in islice(_LETTERS.finditer(text), 8))  # 8 are enough to know
    return letters < 8 or bool(_INTRO.match(text))


def _following_block(lines: TextLines, index: int) -> list[int]:
    """Return the lines after a recipient line up to a blank line or the next recipient.

    When the recipient line is one labelled field of a list ("RCPT TO: x@y" among "Subject:",
    "Size (in bytes): 222" ...), the fields after it describe the message, not the failure.
    """
    block = []
    own_indent = lines.indent(index)
    in_fields = lines.field(index)
    for line in range(index + 1, min(index + 13, len(lines))):
        if lines.blank(line):
            break
        if lines.indent(line) <= own_indent and lines.address(line) is not None:
            break
        if in_fields and lines.field(line) and not lines.has_code(line):
            continue
        block.append(line)
    return block


def _code_line_after(lines: TextLines, index: int) -> str | None:
    """Return the first line after `index` carrying a reply or status code, before the next
    recipient line."""
    own_indent = lines.indent(index)
    for line in range(index + 1, min(index + 30, len(lines))):
        if lines.indent(line) <= own_indent and lines.address(line) is not None:
            return None
        if lines.has_code(line):
            return lines.folded(line)
    return None


def _next_paragraph(lines: TextLines, start: int) -> str | None:
    """Return the next non-intro paragraph after a blank line (e.g. after 'because:'); it
    depends only on where that blank line is, so it is read once for all recipients above."""
    position = lines.paragraph_end(start)
    return lines.remember(("paragraph", position), lambda: _paragraph_at(lines, position))


def _paragraph_at(lines: TextLines, position: int) -> str | None:
    """Return the first non-intro paragraph of the 20 lines from `position` (a blank line)."""
    paragraph: list[int] = []
    head = ""  # the paragraph's lines joined, up to MAX_ERROR_TEXT characters (for _INTRO)
    for line in range(position, min(position + 20, len(lines))):
        if lines.blank(line):
            if paragraph and not _INTRO.match(head.strip()):
                break
            continue
        if lines.alone(line):
            break
        if len(head) < MAX_ERROR_TEXT:
            head = (f"{head} " if paragraph else "") + lines.lines[line][:MAX_ERROR_TEXT]
            head = head[:MAX_ERROR_TEXT]
        paragraph.append(line)
    return joined(*(lines.folded(line) for line in paragraph))
