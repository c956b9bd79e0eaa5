"""The compiled-pattern cache: same matches from a stored program, quiet fallbacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bouncer.core.rules import regex_cache

SOURCE = r"(?P<code>[245]\d\d)[ -](?:user|mailbox) (?:unknown|full)"
TEXTS = ["550 user unknown", "452-mailbox full", "250 ok", "550 USER unknown"]


def _matches(pattern: re.Pattern[str]) -> list:
    return [(m.group(0), m.group("code")) if (m := pattern.search(t)) else None for t in TEXTS]


def test_a_stored_program_matches_like_a_fresh_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOUNCER_CACHE_DIR", str(tmp_path))
    first = regex_cache._Store()
    built = first.get(("re", SOURCE, 0), lambda: SOURCE, 0)
    first.save()
    assert list(tmp_path.iterdir())  # one cache file written
    second = regex_cache._Store()
    calls = []
    loaded = second.get(("re", SOURCE, 0), lambda: calls.append(1) or SOURCE, 0)
    assert calls == []  # rebuilt from the stored program, not from the source
    assert _matches(loaded) == _matches(built) == _matches(re.compile(SOURCE))


def test_an_unusable_cache_compiles_as_usual(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("BOUNCER_CACHE_DIR", str(blocker / "cache"))
    store = regex_cache._Store()
    pattern = store.get(("re", SOURCE, re.I), lambda: SOURCE, re.I)
    store.save()  # cannot write: gives up quietly
    assert pattern.search("550 USER unknown")
    (tmp_path / "junk").mkdir()
    monkeypatch.setenv("BOUNCER_CACHE_DIR", str(tmp_path / "junk"))
    junk = regex_cache._Store()
    junk.path.write_bytes(b"\x00not marshal")
    assert junk.get(("re", SOURCE, 0), lambda: SOURCE, 0).search("550 user unknown")
