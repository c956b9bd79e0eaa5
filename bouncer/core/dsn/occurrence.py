"""Where keys (recipient addresses) first occur in one long text, for many keys, in bounded time.

`str.find` costs up to the text's length for every key: for the thousands of recipients of one
report over a text of megabytes, that is quadratic. `Occurrences` runs `str.find` while a
budget of characters scanned (all keys together) lasts, which covers any real report, so the
answer is exact there. After that it answers from an index of the text's address-like tokens
(maximal runs of the characters an address is made of that contain an `@`, with and without
dots at their ends), built once: a key found there stands as a whole token, which is how a
recipient's address appears in a bounce.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator

from bouncer.core.dsn.fields import at_runs

SCAN_BUDGET = 1 << 26  # characters str.find may scan per text (tens of milliseconds)


class Occurrences:
    """First occurrences of keys in one text: exact while the scanning budget lasts."""

    __slots__ = ("_text", "_budget", "_tokens", "_runs")

    def __init__(self, text: str, budget: int = SCAN_BUDGET) -> None:
        """Index nothing yet: the token index is built only once the budget is spent, and
        only as far into the text as the keys asked for are found."""
        self._text = text
        self._budget = budget
        self._tokens: dict[str, int] = {}
        self._runs: Iterator[tuple[int, int]] | None = None

    def first(self, key: str) -> int:
        """Return where `key` first occurs in the text, -1 where it does not."""
        if self._budget > 0:
            end = min(len(self._text), self._budget)
            found = self._text.find(key, 0, end)
            self._budget -= found + len(key) if found >= 0 else end
            if found >= 0 or end == len(self._text):
                return found
        return self._first_token(key)

    def _first_token(self, key: str) -> int:
        """Return the first position of the key as an address-like token (or one without its
        end dots), indexing the text's tokens up to there."""
        if self._runs is None:
            self._runs = at_runs(self._text)
        tokens = self._tokens
        while key not in tokens:
            start, end = next(self._runs, (-1, -1))
            if start < 0:
                return -1
            token = self._text[start:end]
            tokens.setdefault(token, start)
            bare = token.strip(".")
            if bare and bare != token:
                tokens.setdefault(bare, start + len(token) - len(token.lstrip(".")))
        return tokens[key]


def joined(pieces: list[str]) -> tuple[str, list[int]]:
    """Return the pieces joined by newlines, and where each piece starts in the result."""
    starts = []
    position = 0
    for piece in pieces:
        starts.append(position)
        position += len(piece) + 1
    return "\n".join(pieces), starts


def piece_at(starts: list[int], position: int) -> int:
    """Return the index of the piece (from `joined`) that holds a position of the joined text."""
    return bisect_right(starts, position) - 1
