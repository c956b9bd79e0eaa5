"""Keep compiled regular expressions between processes.

Building the phrase matcher's pattern from thousands of phrases, and compiling it and the
parser's hundred other patterns, costs tens of milliseconds that every `bouncer classify`
process would pay before its first message. This module keeps the compiled programs (the
code lists `re` hands to its engine) in one cache file and rebuilds patterns from them
without parsing.

Entries are keyed by their source (or, for a built pattern, a digest of what it is built
from); the file by the Python version and the regular-expression engine's version, so a
change of either starts a new file. Everything is optional: the file lives in
`$BOUNCER_CACHE_DIR`, else `$XDG_CACHE_HOME/bouncer`, else `~/.cache/bouncer`; when it cannot
be read or written, or the engine's internals differ, patterns compile as usual.
`re._parser`, `re._compiler` and `_sre.compile` are CPython internals, used only behind that
fallback.
"""

from __future__ import annotations

import atexit
import marshal
import os
import re
import sys
import zlib
from collections.abc import Callable, Hashable
from pathlib import Path

try:  # CPython 3.11+
    import _sre
    from re import _compiler, _parser
except ImportError:  # pragma: no cover - other interpreters compile as usual
    _sre = None


def cache_dir() -> Path | None:
    """Return the directory the cache file goes to, or None when there is no home for it."""
    chosen = os.environ.get("BOUNCER_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        base = os.path.join(home, ".cache") if home != "~" else ""
    return Path(base) / "bouncer" if base else None


def pattern(source: str, flags: int = 0) -> re.Pattern[str]:
    """Return `re.compile(source, flags)`, from the cache file when it holds the program."""
    return _STORE.get(("re", source, int(flags)), lambda: source, int(flags))


def compiled(name: str, digest: str, build: Callable[[], str], flags: int = 0) -> re.Pattern[str]:
    """Return the pattern `build()` makes, without calling it when the cache holds it.

    `digest` must change whenever `build()` would return a different source.
    """
    return _STORE.get((name, digest, int(flags)), build, int(flags))


class _Store:
    """The programs of the patterns this process uses, read from and written to one file."""

    def __init__(self) -> None:
        engine = f"{sys.version}|{getattr(_sre, 'MAGIC', 0)}"
        name = f"patterns-{zlib.crc32(engine.encode()):08x}.marshal"
        self.path = (cache_dir() or Path("/nonexistent")) / name
        self.known: dict[Hashable, tuple] | None = None
        self.used: dict[Hashable, tuple] = {}
        self.dirty = False

    def get(self, key: Hashable, build: Callable[[], str], flags: int) -> re.Pattern[str]:
        """Return the pattern for `key`, from its stored program or by compiling `build()`."""
        if _sre is None:
            return re.compile(build(), flags)
        if self.known is None:
            self.known = _read(self.path)
        program = self.known.get(key)
        if program is not None:
            try:
                found = _sre.compile(*program)
                self.used[key] = program
                return found
            except Exception:  # noqa: BLE001 - a stale entry: compile again
                pass
        found, program = _compile(build(), flags)
        if program is not None:
            self.used[key] = program
            if not self.dirty:
                self.dirty = True
                atexit.register(self.save)
        return found

    def save(self) -> None:
        """Write the programs this process used (entries of older rules fall away)."""
        _write(self.path, self.used)


def _compile(source: str, flags: int) -> tuple[re.Pattern[str], tuple | None]:
    """Compile a source; also return what rebuilding it needs (None without the internals)."""
    try:
        parsed = _parser.parse(source, flags)
        code = _compiler._code(parsed, flags)
        groupindex = dict(parsed.state.groupdict)
        indexgroup = [None] * parsed.state.groups
        for group, index in groupindex.items():
            indexgroup[index] = group
        program = (
            source,
            int(flags | parsed.state.flags),
            [int(op) for op in code],
            parsed.state.groups - 1,
            groupindex,
            tuple(indexgroup),
        )
        return _sre.compile(*program), program
    except Exception:  # noqa: BLE001 - internals differ: compile the documented way
        return re.compile(source, flags), None


def _read(path: Path) -> dict[Hashable, tuple]:
    """Return the programs a cache file holds ({} when missing, unreadable or foreign)."""
    try:
        found = marshal.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - missing or from another version: start afresh
        return {}
    return found if isinstance(found, dict) else {}


def _write(path: Path, programs: dict[Hashable, tuple]) -> None:
    """Write a cache file atomically; give up quietly when that is not possible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps(programs))
        os.replace(partial, path)
    except (OSError, ValueError):
        pass


_STORE = _Store()
