"""The first reporting phrase in each recipient's paragraph of a bounce region, for many
recipients of one region.

A recipient's paragraph runs from the start of the first line naming its address to the next
blank line; its phrases are read in its lower-cased form, key word by key word (each key word
found after the previous one ends), up to the first key word where a phrase matches. Doing that
per recipient costs the region's length per recipient (lower-casing it, finding the address,
scanning the paragraph): quadratic for thousands of recipients. Here the region is lower-cased
once, addresses are found through `Occurrences`, line starts and paragraph ends through indexes
(when not near), and the key words of each paragraph are read once and shared by all the
recipients in it; the answers are the same.

As before, the paragraph is found in the lower-cased region and cut from the region at the same
indexes (they differ only after a character whose lower-case form is longer, 'İ'); its lower-
cased form is the lower-cased region between the corresponding positions.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable

from bouncer.core.dsn.occurrence import Occurrences
from bouncer.core.rules.regex_cache import pattern

# A line start or paragraph end nearer than this is found by a plain search, farther ones
# through an index of the region's newlines (built when first needed).
_NEAR = 4096
# The only character whose lower-case form is longer than itself ('İ' -> 'i̇'), in the Unicode
# versions of Python 3.11 to 3.13; another one would make the positions disagree (checked).
LENGTHENED = "\u0130"
_NEWLINE = pattern(r"\n")
_BREAK = pattern(r"\n(?=\n)")

PhraseAt = Callable[[str, int, int], "re.Match[str] | None"]


class ParagraphPhrases:
    """For one bounce region: the first phrase match in the paragraph of a recipient."""

    __slots__ = ("region", "lowered", "_keys", "_phrase_at", "_occurrences", "_lengthened")
    __slots__ += ("_blocks", "_newlines", "_breaks")

    def __init__(self, region: str, keys: re.Pattern[str], phrase_at: PhraseAt) -> None:
        """Lower-case the region. `keys` finds the key words, `phrase_at(lowered, position,
        end)` matches a phrase at one; every phrase starts with a key word, and a key word is
        made of letters (or is one character)."""
        self.region = region
        self.lowered = region.lower()
        self._keys, self._phrase_at = keys, phrase_at
        self._occurrences = Occurrences(self.lowered)
        self._lengthened: list[int] | None = None
        if len(self.lowered) != len(region):
            self._lengthened = [m.start() for m in re.finditer(LENGTHENED, region)]
        self._blocks: dict[int, _Block] = {}
        self._newlines: list[int] | None = None
        self._breaks: list[int] | None = None

    def first_for(self, address: str) -> re.Match[str] | None:
        """Return the first phrase match in the paragraph of the first line naming the address
        (None when no line names it or no phrase is there)."""
        found = self._occurrences.first(address.lower())
        if found < 0:
            return None
        start = self._line_start(found)
        end = self._paragraph_end(start)
        low, high = min(start, len(self.region)), min(end, len(self.region))
        if low >= high:
            return None
        if not self._aligned():
            return self._first_in(self.region[low:high].lower())
        begin, finish = self._shifted(low), self._shifted(high)
        found = self._phrase_at(self.lowered, begin, finish)  # no boundary needed at the start
        if found is not None:
            return found
        block = self._blocks.get(end)
        if block is None:
            floor = self._shifted(min(self._paragraph_floor(end), len(self.region)))
            block = _Block(self.lowered, floor, finish, self._keys, self._phrase_at)
            self._blocks[end] = block
        return block.first_from(begin)

    def _aligned(self) -> bool:
        """Tell whether region positions map onto lower-cased ones (always, but checked)."""
        extra = len(self._lengthened) if self._lengthened is not None else 0
        return len(self.region) + extra == len(self.lowered)

    def _shifted(self, index: int) -> int:
        """Return the position in the lower-cased region of a position in the region."""
        if self._lengthened is None:
            return index
        return index + bisect_left(self._lengthened, index)

    def _first_in(self, lowered: str) -> re.Match[str] | None:
        """Return the first phrase match of one lower-cased paragraph (read on its own)."""
        found = self._phrase_at(lowered, 0, len(lowered))
        if found is not None:
            return found
        return _Block(lowered, 0, len(lowered), self._keys, self._phrase_at).first_from(0)

    def _line_start(self, position: int) -> int:
        """Return where the line holding a position of the lower-cased region starts."""
        near = max(0, position - _NEAR)
        found = self.lowered.rfind("\n", near, position)
        if found >= 0 or near == 0:
            return found + 1
        if self._newlines is None:
            self._newlines = [m.start() for m in _NEWLINE.finditer(self.lowered)]
        before = bisect_left(self._newlines, position) - 1
        return self._newlines[before] + 1 if before >= 0 else 0

    def _paragraph_end(self, start: int) -> int:
        """Return where the first blank line at or after `start` starts (its preceding newline),
        or the region's length (in characters of the region, as the paragraph is cut there)."""
        found = self.lowered.find("\n\n", start, start + _NEAR)
        if found < 0 and start + _NEAR < len(self.lowered):
            following = bisect_left(self._break_index(), start)
            found = self._breaks[following] if following < len(self._breaks) else -1
        return found if found >= 0 else len(self.region)

    def _paragraph_floor(self, end: int) -> int:
        """Return a position no later than the start of any line whose paragraph ends at `end`
        (just after the last blank line before it)."""
        return self.lowered.rfind("\n\n", 0, min(end, len(self.lowered))) + 1

    def _break_index(self) -> list[int]:
        """Return every position where a newline follows a newline (built once)."""
        if self._breaks is None:
            self._breaks = [m.start() for m in _BREAK.finditer(self.lowered)]
        return self._breaks


class _Block:
    """The phrase matches at the key words that count (no letter or digit before them) in one
    stretch of lower-cased text, read up to the stretch's end.

    Read key word by key word from any start, the key words that count are the same: a key word
    found inside another one (the reading skips those) has a letter before it. So the first one
    from a paragraph's start is found by bisection, whatever the stretch starts earlier with.
    """

    __slots__ = ("positions", "matches")

    def __init__(
        self, lowered: str, begin: int, end: int, keys: re.Pattern[str], phrase_at: PhraseAt
    ) -> None:
        """Read the key words of lowered[begin:end] and the phrases there."""
        self.positions: list[int] = []
        self.matches: list[re.Match[str]] = []
        for key in keys.finditer(lowered, begin, end):
            position = key.start()
            if position and lowered[position - 1].isalnum():
                continue  # inside a longer word
            found = phrase_at(lowered, position, end)
            if found is not None:
                self.positions.append(position)
                self.matches.append(found)

    def first_from(self, begin: int) -> re.Match[str] | None:
        """Return the first phrase match at a counting key word after `begin`."""
        index = bisect_right(self.positions, begin)
        return self.matches[index] if index < len(self.positions) else None
