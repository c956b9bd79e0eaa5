"""Case-insensitive regular expressions that search ASCII text fast.

Python's `re` runs several times slower with IGNORECASE: it can no longer skip ahead on the
pattern's first characters. For ASCII text, searching the lower-cased text with a lower-case
pattern finds the same positions, so a `Caseless` pattern does that, and falls back to
IGNORECASE only for text with other characters (where case folding is wider than ASCII).
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\.")


class Caseless:
    """A case-insensitive pattern: lower-cased search for ASCII text, IGNORECASE otherwise.

    Only positions (and truth) of a match are meaningful: for ASCII text the matched text is
    the lower-cased copy. The pattern must spell its letters in lower case (ranges `A-Za-z`
    aside), so that both ways of searching agree.
    """

    __slots__ = ("_folded", "_ignore_case")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        """Compile the pattern both ways; reject upper-case letters outside escapes."""
        bare = _ESCAPE.sub("", pattern).replace("A-Za-z", "")
        if any("A" <= char <= "Z" for char in bare):
            raise ValueError(f"caseless pattern must be lower case: {pattern!r}")
        self._folded = re.compile(pattern, flags)
        self._ignore_case = re.compile(pattern, flags | re.IGNORECASE)

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """Return the first match in text at or after pos, as re.search would with IGNORECASE."""
        if text.isascii():
            return self._folded.search(text.lower(), pos)
        return self._ignore_case.search(text, pos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """Return a match at pos, as re.match would with IGNORECASE."""
        if text.isascii():
            return self._folded.match(text.lower(), pos)
        return self._ignore_case.match(text, pos)
