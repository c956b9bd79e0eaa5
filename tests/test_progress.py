"""Progress bars (bouncer.cli.progress): on a terminal only."""

from __future__ import annotations

import io

from bouncer.cli.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_and_no_count_off_a_terminal() -> None:
    counted = []
    out = io.StringIO()
    with progress_bar(lambda: counted.append(1) or 10, "working", out) as advance:
        assert advance is None
    assert counted == [] and out.getvalue() == ""


def test_a_bar_on_a_terminal_counts_to_its_total() -> None:
    out = Terminal()
    with progress_bar(lambda: 10, "working", out) as advance:
        assert advance is not None
        for _ in range(10):
            advance(1)
    assert "working" in out.getvalue() and "10/10" in out.getvalue()
