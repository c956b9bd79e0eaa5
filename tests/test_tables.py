"""Text tables (bouncer.cli.tables): nothing cut, every column under its header."""

from __future__ import annotations

import io

import pytest

from bouncer.cli.tables import Table

LONG_ADDRESS = "a.very.long.local.part.that.keeps.going" + "x" * 40 + "@mail.subdomain.example.org"
DIAGNOSTIC = ("550 5.1.1 <gone@example.com>: Recipient address rejected [bold]x[/bold] " * 4)[:200]
ROWS = [
    {"address": LONG_ADDRESS, "reason": "userunknown", "count": 3, "diagnostic": DIAGNOSTIC},
    {"address": "b@c.example", "reason": None, "count": 12, "diagnostic": "short"},
]
COLUMNS = ("address", "reason", "count", "diagnostic")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def starts(header: str) -> dict[str, tuple[int, int]]:
    """Return each header word's (start, end) offsets in the header line."""
    spans, offset = {}, 0
    for word in header.split():
        start = header.index(word, offset)
        spans[word.lower()] = (start, start + len(word))
        offset = start + len(word)
    return spans


def test_piped_rows_are_whole_lines_with_cells_under_their_headers() -> None:
    out = io.StringIO()
    Table(COLUMNS).print(ROWS, out=out)
    header, *lines = out.getvalue().splitlines()
    assert len(lines) == 2 and header.split() == ["ADDRESS", "REASON", "COUNT", "DIAGNOSTIC"]
    spans = starts(header)
    for row, line in zip(ROWS, lines, strict=True):
        assert line == line.rstrip()
        for name in ("address", "reason", "diagnostic"):
            if row[name]:
                start = spans[name][0]
                assert line[start : start + len(row[name])] == row[name]
        end = spans["count"][1]  # numbers are right-aligned under theirs
        assert line[:end].endswith(f" {row['count']}")


def test_a_narrow_terminal_wraps_inside_columns_and_cuts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "70")
    out = Terminal()
    Table(COLUMNS).print(ROWS, out=out)
    plain = [_unstyled(line) for line in out.getvalue().splitlines()]
    assert max(len(line) for line in plain) <= 70
    spans = starts(plain[0])
    first_row = plain[1 : plain.index(next(line for line in plain if "b@c.example" in line))]
    address = "".join(line[spans["address"][0] : spans["reason"][0]].strip() for line in first_row)
    diagnostic = " ".join(line[spans["diagnostic"][0] :].strip() for line in first_row)
    assert address == LONG_ADDRESS
    assert diagnostic.replace(" ", "") == DIAGNOSTIC.replace(" ", "")


def test_a_kept_layout_prints_later_rows_in_the_first_columns() -> None:
    table = Table(COLUMNS, {"reason": 16}, keep_widths=True)
    first, later = io.StringIO(), io.StringIO()
    table.print(ROWS[1:], out=first)
    table.print(ROWS[1:], header=False, out=later)
    header, row = first.getvalue().splitlines()
    assert later.getvalue().splitlines() == [row]
    assert starts(header)["count"][0] - starts(header)["reason"][0] == 16 + 2


def _unstyled(line: str) -> str:
    """Drop ANSI colour codes."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", line)
