"""Compile an ordered phrase table into one regular expression and find the best reason in text.

A phrase is lower-case literal text; `*` inside it stands for a short gap of any characters
("mailbox * full"), and `{a|b|c}` for one of several words (an empty one: the word may be
missing), so one line describes a family of wordings ("{no such|unknown} {user|mailbox}"
stands for four phrases; it is compiled as a choice, not multiplied out). A phrase starts at
the start of a word (never after an ASCII letter or digit); text in scripts without spaces
(Japanese, Chinese) can match anywhere.

All phrases go into one prefix trie emitted as a single regular expression, so a search costs
one pass over the text whatever the number of phrases. After each match the search resumes one
character after the match's start, so overlapping phrases are all seen, and the reason that
comes first in the table wins, wherever in the text it was found.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Container, Iterable, Sequence

from bouncer.core.rules.regex_cache import compiled

GAP = "*"
GAP_PATTERN = ".{0,80}?"
_SPECIAL = re.compile(r"\{[^{}]*\}|\*")  # a choice of words, or a gap
_TERMINAL = ""
_WORD_START = "(?<![a-z0-9])"


def normalise(text: str) -> str:
    """Return text lower-cased, with runs of whitespace folded to one space, padded by spaces.

    The reply codes that start each line of a multiline SMTP reply ("550-5.1.1 ", RFC 5321
    §4.2.1), folded into the text, are dropped so a phrase that runs across lines is whole.
    """
    folded = " ".join(text.lower().split()).replace("\u2019", "'")
    return " " + _CONTINUATION.sub("", folded) + " "


_CONTINUATION = re.compile(r"(?<![\w.])[245]\d\d-(?:[245]\.\d{1,3}\.\d{1,3} )?")


def _tokens(phrase: str) -> list[str]:
    """Split a phrase into trie tokens: single characters, the gap `*`, and `{a|b}` choices."""
    tokens: list[str] = []
    position = 0
    for found in _SPECIAL.finditer(phrase):
        tokens.extend(phrase[position : found.start()])
        tokens.append(found.group(0))
        position = found.end()
    tokens.extend(phrase[position:])
    return tokens


def _token_source(token: str) -> str:
    """Return the regex source of one token (a choice tries its longer words first)."""
    if token == GAP:
        return GAP_PATTERN
    if len(token) > 2 and token[0] == "{" and token[-1] == "}":
        words = sorted(token[1:-1].split("|"), key=len, reverse=True)
        return "(?:" + "|".join(re.escape(word) for word in words) + ")"
    return re.escape(token)


def _build_trie(phrases: Iterable[tuple[str, int]]) -> dict:
    """Return a nested-dict trie of phrases; a terminal holds the first phrase id seen there."""
    trie: dict = {}
    for phrase, phrase_id in phrases:
        node = trie
        for token in _tokens(phrase):
            node = node.setdefault(token, {})
        node.setdefault(_TERMINAL, phrase_id)
    return trie


def _emit(node: dict, rank: _Ranker) -> str:
    """Return the regex source for a trie node.

    A regex reports only the first alternative that matches at a position, so branches are
    tried best-ranked first (by the best phrase beneath them): "domain of sender address"
    (rejected) is found before "domain * does not exist" (hostunknown) at the same word.
    On equal rank, longer continuations come before the end of a phrase.
    """
    branches = []
    for token in sorted(
        (key for key in node if key != _TERMINAL), key=lambda k: (rank(node[k]), k)
    ):
        branches.append((rank(node[token]), _token_source(token) + _emit(node[token], rank)))
    if _TERMINAL in node:
        branches.append((rank.end(node), f"(?P<p{node[_TERMINAL]}>)"))
    branches.sort(key=lambda branch: branch[0])  # stable: equal ranks keep the order above
    if len(branches) == 1:
        return branches[0][1]
    return "(?:" + "|".join(source for _, source in branches) + ")"


class _Ranker:
    """The best (lowest) phrase rank beneath each trie node, computed once per node."""

    def __init__(self, phrase_rank: dict[int, int]) -> None:
        self._phrase_rank = phrase_rank
        self._memo: dict[int, int] = {}

    def end(self, node: dict) -> int:
        """Return the rank of the phrase that ends at this node."""
        return self._phrase_rank[node[_TERMINAL]]

    def __call__(self, node: dict) -> int:
        key = id(node)
        if key not in self._memo:
            ranks = [self(child) for token, child in node.items() if token != _TERMINAL]
            if _TERMINAL in node:
                ranks.append(self.end(node))
            self._memo[key] = min(ranks)
        return self._memo[key]


class PhraseMatcher:
    """An ordered table of (reason, phrases) compiled once; finds the highest-ranked reason.

    Rows from `generic_from` on hold broad words: a reason found only through them is
    reported as generic, so callers can let stronger evidence outweigh it.
    """

    def __init__(
        self, table: Sequence[tuple[str, Sequence[str]]], generic_from: int | None = None
    ) -> None:
        """Compile the table; earlier rows rank higher."""
        self.reasons: tuple[str, ...] = tuple(reason for reason, _ in table)
        self.generic_from = len(table) if generic_from is None else generic_from
        self._rank = {reason: rank for rank, reason in reversed(list(enumerate(self.reasons)))}
        numbered: list[tuple[str, int]] = []
        self._phrase_rank: dict[str, int] = {}
        for rank, (_, phrases) in enumerate(table):
            for phrase in phrases:
                phrase_id = len(numbered)
                numbered.append((phrase.lower().lstrip(), phrase_id))
                self._phrase_rank[f"p{phrase_id}"] = rank
        ranks = {int(name[1:]): rank for name, rank in self._phrase_rank.items()}

        def build() -> str:
            return _WORD_START + _emit(_build_trie(numbered), _Ranker(ranks))

        table_text = repr((numbered, ranks)).encode()
        digest = f"{zlib.crc32(table_text):08x}{zlib.adler32(table_text):08x}-{len(numbered)}"
        self._regex = compiled("phrases", digest, build, re.DOTALL)

    def rank(self, reason: str) -> int:
        """Return a reason's position in the table (lower ranks higher); unknown ones rank last."""
        return self._rank.get(reason, len(self.reasons))

    def find(self, normalised_text: str, allowed: Container[str] | None = None) -> str | None:
        """Return the highest-ranked reason (of those allowed) found in already normalised text."""
        return self.find_phrase(normalised_text, allowed)[0]

    def find_with_strength(
        self, normalised_text: str, allowed: Container[str] | None = None
    ) -> tuple[str | None, bool]:
        """Return (best allowed reason or None, whether only a generic row named it)."""
        reason, _, generic = self.find_phrase(normalised_text, allowed)
        return reason, generic

    def find_phrase(
        self, normalised_text: str, allowed: Container[str] | None = None
    ) -> tuple[str | None, str | None, bool]:
        """Return (best allowed reason, the text that named it, whether only a generic row did).

        The text is the stretch of `normalised_text` the phrase matched (None with no reason).
        """
        best, found = len(self.reasons), None
        search = self._regex.search
        match = search(normalised_text)
        while match is not None:
            rank = self._phrase_rank[match.lastgroup]
            if rank < best and (allowed is None or self.reasons[rank] in allowed):
                best, found = rank, match
                if rank == 0:
                    break
            match = search(normalised_text, match.start() + 1)
        if found is None:
            return None, None, False
        return self.reasons[best], found.group(0).strip(), best >= self.generic_from
