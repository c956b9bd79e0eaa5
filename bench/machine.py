"""What this machine charges for touching a page that nobody touched lately: context for the
figures of bench/scale.py.

A lookup by a key in no order (a new address in the suppression list, its soft days, an
earlier copy of a report) reads one index page at a random place. In a small store every
page is touched many times a second; in a large one the page was last touched seconds or
minutes ago. On bare metal both cost about the same (a copy from the OS page cache); on a
virtual machine whose host reclaims the guest's mappings of idle memory (nested
virtualisation, memory overcommit) the second costs a fault in the host, tens to hundreds
of microseconds. `page_reads` measures both, so a reader of the scale figures can tell how
much of the gap between sizes is this machine's price of idle memory.

    .venv/bin/python bench/machine.py FILE    # a large file, e.g. a 1M-message database
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

PAGE = 4096


def _timed(touch: callable, where: list[int]) -> float:
    """Return the mean time of touch(offset) over the offsets, in µs."""
    started = time.perf_counter()
    for offset in where:
        touch(offset)
    return (time.perf_counter() - started) / len(where) * 1e6


def page_reads(path: Path, count: int = 2000, idle: float = 2.0) -> dict[str, float]:
    """Read `count` random 4 KB pages of a file (os.pread), again at once, and again after
    `idle` seconds; the same for pages of a 64 MB buffer in memory. Return the mean times
    (µs) keyed by a label. The file should be in the OS page cache (read it through first):
    what is measured is memory, not the disk."""
    rng = random.Random(7)
    pages = max(1, path.stat().st_size // PAGE)
    offsets = [rng.randrange(pages) * PAGE for _ in range(count)]
    buffer = bytearray(64 << 20)
    spots = [rng.randrange(len(buffer) // PAGE) * PAGE for _ in range(count)]
    fd = os.open(path, os.O_RDONLY)
    try:

        def read(offset: int) -> None:
            os.pread(fd, PAGE, offset)

        def poke(offset: int) -> None:
            buffer[offset] = (buffer[offset] + 1) & 0xFF

        _timed(read, offsets), _timed(poke, spots)
        again = _timed(read, offsets), _timed(poke, spots)
        time.sleep(idle)
        later = _timed(read, offsets), _timed(poke, spots)
    finally:
        os.close(fd)
    return {
        "file page, again at once": again[0],
        f"file page, after {idle:g} s idle": later[0],
        "memory page, again at once": again[1],
        f"memory page, after {idle:g} s idle": later[1],
    }


def describe(figures: dict[str, float]) -> str:
    """Return the figures on one line: `label µs, label µs, ...`."""
    return ", ".join(f"{label} {value:.1f} µs" for label, value in figures.items())


if __name__ == "__main__":
    print(describe(page_reads(Path(sys.argv[1]))))
