"""Case-insensitive regular expressions that search text fast.

Python's `re` runs several times slower with IGNORECASE: it can no longer skip ahead on the
pattern's first characters. A `Caseless` pattern spells its letters in lower case and searches a
case-folded copy of the text instead, which finds the same positions as IGNORECASE would: the
copy is the text lower-cased, after the three characters IGNORECASE matches with ASCII letters
that lower-casing leaves alone or lengthens ('İ' and 'ı' with "i", 'ſ' with "s"; the Kelvin sign
lower-cases to "k") are replaced by those letters. That holds for patterns whose letters are
ASCII (or have no case, CJK); a pattern with other letters searches non-ASCII text with
IGNORECASE.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bouncer.core.rules.regex_cache import pattern

Span = tuple[int, int]
_ESCAPE = re.compile(r"\\.")
_CHARACTER_ESCAPE = re.compile(r"\\[xuUN]")
# Characters IGNORECASE matches with an ASCII letter that str.lower() does not turn into it.
_TO_ASCII = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))
_REMEMBERED_LENGTH = 65536
_REMEMBERED = 4
# The case-folded forms of the last long texts (a bounce's text, its region ...), searched with
# several patterns in a row: [text, case-folded, newline + case-folded (made when needed)].
_remembered: list[list[str | None]] = []


def case_folded(text: str) -> str:
    """Return the text lower-cased, with 'İ', 'ı' and 'ſ' as the ASCII letters IGNORECASE
    matches them with (same length, same positions)."""
    if len(text) < _REMEMBERED_LENGTH:
        return _case_folded(text)
    return _forms(text)[1]


def _after_newline(text: str) -> str:
    """Return a newline and the case-folded text."""
    if len(text) < _REMEMBERED_LENGTH:
        return "\n" + _case_folded(text)
    forms = _forms(text)
    if forms[2] is None:
        forms[2] = "\n" + forms[1]
    return forms[2]


def _forms(text: str) -> list:
    """Return the remembered forms of a long text (made now if it is not among the last)."""
    for forms in _remembered:
        if forms[0] is text:
            return forms
    forms = [text, _case_folded(text), None]
    _remembered.insert(0, forms)
    del _remembered[_REMEMBERED:]
    return forms


def _case_folded(text: str) -> str:
    """Return the case-folded text (see case_folded)."""
    if not text.isascii():
        for special, letter in _TO_ASCII:
            if special in text:
                text = text.replace(special, letter)
    return text.lower()


class Caseless:
    """A case-insensitive pattern searched over case-folded text (see the module).

    Only positions (and truth) of a match are meaningful: the matched text is the case-folded
    copy's. The pattern must spell its letters in lower case (ranges `A-Za-z` aside), so that
    both ways of searching agree.
    """

    __slots__ = ("_folded", "_ignore_case_source", "_flags", "_ignore_case_pattern", "_ascii")
    __slots__ += ("_lines",)

    def __init__(self, source: str, flags: int = 0) -> None:
        """Compile the lower-case form now (the IGNORECASE one on first need); reject
        upper-case letters outside escapes."""
        bare = _ESCAPE.sub("", source).replace("A-Za-z", "")
        if any("A" <= char <= "Z" for char in bare):
            raise ValueError(f"caseless pattern must be lower case: {source!r}")
        self._folded = pattern(source, flags)
        self._ignore_case_source, self._flags = source, flags
        self._ignore_case_pattern: re.Pattern[str] | None = None
        cased = any(not char.isascii() and char.lower() != char.upper() for char in source)
        self._ascii = not cased and not _CHARACTER_ESCAPE.search(source)
        self._lines: re.Pattern[str] | None = None
        if self._ascii and source.startswith("^") and flags & re.MULTILINE:
            self._lines = pattern("\n" + source[1:], flags)  # see line_matches

    @property
    def _ignore_case(self) -> re.Pattern[str]:
        """Return the IGNORECASE form, compiled when first needed."""
        if self._ignore_case_pattern is None:
            self._ignore_case_pattern = pattern(
                self._ignore_case_source, self._flags | re.IGNORECASE
            )
        return self._ignore_case_pattern

    def prepared(self, text: str) -> tuple[re.Pattern[str], str]:
        """Return the pattern to use and the text to search with it (for many searches of one
        text: the positions of its matches are the text's)."""
        if self._ascii or text.isascii():
            return self._folded, case_folded(text)
        return self._ignore_case, text

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """Return the first match in text at or after pos, as re.search would with IGNORECASE."""
        compiled, target = self.prepared(text)
        return compiled.search(target, pos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """Return a match at pos, as re.match would with IGNORECASE."""
        compiled, target = self.prepared(text)
        return compiled.match(target, pos)

    def line_matches(self, text: str, pos: int = 0, end: int | None = None) -> Iterator[Span]:
        """Yield the (start, end) of each match finditer would give in text[pos:end], for a
        pattern that starts with ^ in MULTILINE mode. The search runs over the case-folded text
        after a newline, for the pattern with that ^ as a newline: `re` then skips from newline
        to newline instead of trying ^ at every character."""
        end = len(text) if end is None else end
        if self._lines is None:
            compiled, target = self.prepared(text)
            for found in compiled.finditer(target, pos, end):
                yield found.span()
            return
        shifted = _after_newline(text)  # position p of the text is p + 1 here
        while True:
            found = self._lines.search(shifted, pos, end + 1)
            if found is None:
                return
            yield found.start(), found.end() - 1
            pos = found.end() - 1 if found.end() > found.start() + 1 else found.end()

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """Yield the matches re.finditer would with IGNORECASE."""
        compiled, target = self.prepared(text)
        return compiled.finditer(target)
