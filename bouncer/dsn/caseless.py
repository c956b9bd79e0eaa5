"""Case-insensitive regular expressions that search ASCII text fast.

Python's `re` runs several times slower with IGNORECASE: it can no longer skip ahead on the
pattern's first characters. For ASCII text, searching the lower-cased text with a lower-case
pattern finds the same positions, so a `Caseless` pattern does that, and falls back to
IGNORECASE only for text with other characters (where case folding is wider than ASCII).
"""

from __future__ import annotations

import re

from bouncer.rules.regex_cache import pattern

_ESCAPE = re.compile(r"\\.")


class Caseless:
    """A case-insensitive pattern: lower-cased search for ASCII text, IGNORECASE otherwise.

    Only positions (and truth) of a match are meaningful: for ASCII text the matched text is
    the lower-cased copy. The pattern must spell its letters in lower case (ranges `A-Za-z`
    aside), so that both ways of searching agree.
    """

    __slots__ = ("_folded", "_ignore_case_source", "_flags", "_ignore_case_pattern")

    def __init__(self, source: str, flags: int = 0) -> None:
        """Compile the lower-case form now (the IGNORECASE one on first non-ASCII text);
        reject upper-case letters outside escapes."""
        bare = _ESCAPE.sub("", source).replace("A-Za-z", "")
        if any("A" <= char <= "Z" for char in bare):
            raise ValueError(f"caseless pattern must be lower case: {source!r}")
        self._folded = pattern(source, flags)
        self._ignore_case_source, self._flags = source, flags
        self._ignore_case_pattern: re.Pattern[str] | None = None

    @property
    def _ignore_case(self) -> re.Pattern[str]:
        """Return the IGNORECASE form, compiled when first needed."""
        if self._ignore_case_pattern is None:
            self._ignore_case_pattern = pattern(
                self._ignore_case_source, self._flags | re.IGNORECASE
            )
        return self._ignore_case_pattern

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
